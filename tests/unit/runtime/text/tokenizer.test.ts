import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TextTokenizer, TokenizerLoadError } from '../../../../main/runtime/text/tokenizer';
import { fixtureDir } from './helpers';

const file = join(fixtureDir, 'tokenizer.json');
const check = JSON.parse(readFileSync(join(fixtureDir, 'tokenizer_check.json'), 'utf8')) as {
  cases: { text: string; ids: number[] }[];
};

describe('TextTokenizer', () => {
  it('encodes as the recipe did and decodes back', async () => {
    const t = await TextTokenizer.load(file, 300);
    for (const { text, ids } of check.cases) {
      expect(t.encode(text)).toEqual(ids);
      expect(t.decode(ids)).toBe(text);
    }
    expect(t.encode('')).toEqual([]);
    expect(t.decode([])).toBe('');
  });

  it('shows special tokens by name and leaves them out of decoded text', async () => {
    const t = await TextTokenizer.load(file, 300);
    expect(t.tokenText(1)).toBe('<|bos|>');
    expect(t.isSpecial(2)).toBe(true);
    const ids = t.encode('the end');
    expect(t.decode([1, ...ids, 2])).toBe('the end');
    expect(ids.map((i) => t.tokenText(i)).join('')).toBe('the end');
  });

  it('streams pieces that never split a character and add up to the text', async () => {
    const t = await TextTokenizer.load(file, 300);
    const text = 'Hello wörld — 🎉 ok';
    const ids = t.encode(text);
    const stream = t.stream();
    const pieces = ids.map((id) => stream.push(id));
    expect(pieces.join('') + stream.flush()).toBe(text);
    expect(pieces.join('')).not.toContain('\uFFFD');
    expect(pieces).toContain('🎉');
    // Cut inside the emoji: the held-back bytes come out as U+FFFD on flush.
    const cut = t.stream();
    const upTo = ids.findIndex((_, i) => t.decode(ids.slice(0, i + 1)).endsWith('\uFFFD'));
    expect(upTo).toBeGreaterThan(0);
    const partial = ids.slice(0, upTo + 1).map((id) => cut.push(id));
    expect(partial.join('')).not.toContain('\uFFFD');
    expect(cut.flush()).toMatch(/\uFFFD$/);
  });

  it('streams any id sequence to exactly the decoded text', async () => {
    const t = await TextTokenizer.load(file, 300);
    let state = 12345;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    for (let trial = 0; trial < 50; trial++) {
      // Any ids at all, BOS/EOS and lone UTF-8 continuation bytes included.
      const ids = Array.from({ length: 1 + rand(40) }, () => rand(300));
      const stream = t.stream();
      const text = ids.map((id) => stream.push(id)).join('') + stream.flush();
      expect(text).toBe(t.decode(ids));
    }
  });

  it('streams through a generic decoder when the tokenizer is not byte-level', async () => {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const dir = mkdtempSync(join(tmpdir(), 'orrery-tok-'));
    try {
      const other = join(dir, 'tokenizer.json');
      writeFileSync(other, JSON.stringify({ ...json, decoder: { type: 'Fuse' } }));
      const t = await TextTokenizer.load(other, 300);
      const ids = t.encode('Hello wörld, and the rest');
      const stream = t.stream();
      const text = ids.map((id) => stream.push(id)).join('') + stream.flush();
      expect(text).toBe(t.decode(ids));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a vocab larger than the model and an unreadable file, naming the file', async () => {
    await expect(TextTokenizer.load(file, 100)).rejects.toThrow(/vocab_size is 100/);
    await expect(TextTokenizer.load(join(fixtureDir, 'nope.json'), 300)).rejects.toBeInstanceOf(
      TokenizerLoadError,
    );
  });
});
