// The text packs' tokenizer.json must load in @huggingface/tokenizers (what the app uses) and
// give exactly the ids that the Python recipe (models/recipes/text/bpe.py) trained the model on.
// The recipe writes those ids, for a set of check strings and validation snippets, to
// tokenizer_check.json next to the tokenizer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface CheckFile {
  tokenizer: string;
  cases: { text: string; ids: number[] }[];
}

interface TextManifest {
  kind: string;
  model: { tokenizer: string; vocab_size: number; bos_token_id: number; eos_token_id: number };
}

const packs = [
  { dir: 'tests/fixtures/packs/text-tiny', required: true },
  { dir: 'models/text-fortunes', required: false },
];

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

describe.each(packs)('text pack tokenizer: $dir', ({ dir, required }) => {
  const packDir = join(repoRoot, dir);
  const present = existsSync(join(packDir, 'manifest.json'));

  it.runIf(required || present)('is a text-lm pack with a tokenizer check file', () => {
    expect(present).toBe(true);
    const manifest = readJson<TextManifest>(join(packDir, 'manifest.json'));
    expect(manifest.kind).toBe('text-lm');
    expect(existsSync(join(packDir, manifest.model.tokenizer))).toBe(true);
    expect(existsSync(join(packDir, 'tokenizer_check.json'))).toBe(true);
  });

  it.runIf(present)('gives the recipe ids and decodes them back', () => {
    const manifest = readJson<TextManifest>(join(packDir, 'manifest.json'));
    const json = readJson<object>(join(packDir, manifest.model.tokenizer));
    const check = readJson<CheckFile>(join(packDir, 'tokenizer_check.json'));
    const tokenizer = new Tokenizer(json, { clean_up_tokenization_spaces: false });

    expect(check.cases.length).toBeGreaterThan(10);
    for (const { text, ids } of check.cases) {
      expect(
        tokenizer.encode(text, { add_special_tokens: false }).ids,
        JSON.stringify(text),
      ).toEqual(ids);
      if (ids.length > 0) expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  it.runIf(present)('matches the manifest (vocab size, special tokens)', () => {
    const manifest = readJson<TextManifest>(join(packDir, 'manifest.json'));
    const tokenizer = new Tokenizer(readJson<object>(join(packDir, manifest.model.tokenizer)), {});
    const vocab = tokenizer.get_vocab(true);
    expect(vocab.size).toBe(manifest.model.vocab_size);
    expect(tokenizer.id_to_token(manifest.model.bos_token_id)).toBe('<|bos|>');
    expect(tokenizer.id_to_token(manifest.model.eos_token_id)).toBe('<|eos|>');
    expect(Math.max(...vocab.values())).toBe(manifest.model.vocab_size - 1);
  });
});
