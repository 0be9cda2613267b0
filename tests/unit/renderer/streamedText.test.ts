// A streaming text run's view (renderer/src/steer/streamedText.ts): before as far as after has
// come, so a before row that arrives whole (kept from an earlier tick) shows no false removals.
import { describe, expect, it } from 'vitest';
import { diffWords } from 'diff';
import { streamedText } from '../../../renderer/src/steer/streamedText';

describe('streamedText', () => {
  it('shows a kept before only as far as after has streamed', () => {
    const before = [' the', ' light', ' was', ' good'];
    const shown = streamedText({ before, after: [' the', ' dark'] });
    expect(shown).toEqual({ before: ' the light', after: ' the dark' });
    // the word diff then finds the one word changed, not the before row's tail
    const parts = diffWords(shown.before, shown.after);
    expect(parts.filter((p) => p.removed).map((p) => p.value.trim())).toEqual(['light']);
    expect(parts.filter((p) => p.added).map((p) => p.value.trim())).toEqual(['dark']);
  });

  it('shows rows that stream in step, and a before that ended first, as they are', () => {
    expect(streamedText({ before: [' a', ' b'], after: [' a', ' c'] })).toEqual({
      before: ' a b',
      after: ' a c',
    });
    expect(streamedText({ before: [' a'], after: [' a', ' c', ' d'] })).toEqual({
      before: ' a',
      after: ' a c d',
    });
    expect(streamedText({ before: [' a', ' b'], after: [] })).toEqual({ before: '', after: '' });
  });
});
