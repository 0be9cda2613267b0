import { describe, expect, it } from 'vitest';
import { OrreryError } from '../../../../preload/contract';
import {
  checkPromptFits,
  corpusIds,
  firstReadRow,
  lensContext,
  withBos,
} from '../../../../main/runtime/text/textRule';

describe('the text rule', () => {
  it('puts BOS first only when the model has one and the SAE read it', () => {
    expect(withBos([5, 6], 1)).toEqual([1, 5, 6]);
    expect(withBos([5, 6], undefined)).toEqual([5, 6]);
    expect(withBos([5, 6], 1, false)).toEqual([5, 6]);
  });

  it('leaves out the BOS row only when it is BOS (no id is assumed to be BOS)', () => {
    expect(firstReadRow([1, 5], 1)).toBe(1);
    expect(firstReadRow([1, 5], undefined)).toBe(0);
    expect(firstReadRow([1, 5], 7)).toBe(0);
    expect(firstReadRow([], 1)).toBe(0);
  });

  it('rejects a typed prompt that does not fit, and says how many tokens may', () => {
    expect(() => checkPromptFits(64, 64, 1)).toThrow(OrreryError);
    expect(() => checkPromptFits(64, 64, 1)).toThrow(/at most 63/);
    expect(() => checkPromptFits(64, 64, 0)).not.toThrow();
    expect(() => checkPromptFits(0, 64, 0)).toThrow(/empty/);
  });

  it('reads a corpus text in its window and counts what it left out', () => {
    const rule = { bos: 1, context: 8 };
    const text = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    expect(corpusIds(text, rule, { prependBos: true, contextSize: null })).toEqual({
      ids: [1, 10, 11, 12, 13, 14, 15, 16],
      cut: 3,
    });
    expect(corpusIds(text, rule, { prependBos: true, contextSize: 4 })).toEqual({
      ids: [1, 10, 11, 12],
      cut: 7,
    });
    expect(corpusIds(text.slice(0, 2), rule, { prependBos: false, contextSize: 4 })).toEqual({
      ids: [10, 11],
      cut: 0,
    });
  });

  it('gives the logit lens BOS, else EOS, else nothing', () => {
    expect(lensContext(1, 2)).toEqual([1]);
    expect(lensContext(undefined, 2)).toEqual([2]);
    expect(lensContext(undefined, undefined)).toBeNull();
  });
});
