/**
 * The worker's engine registry opens an HF library entry with the HF engine and a split pack
 * with the split-graph engine; a model's warnings become one notice each, once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NoticeBoard } from '../../../../main/app/notices';
import { loadEngine } from '../../../../main/runtime/engines';
import '../../../../main/runtime/registerEngines';
import { HfTextEngine } from '../../../../main/runtime/hf/hfTextEngine';
import { TextEngine } from '../../../../main/runtime/text/textEngine';
import type { AnyEngine } from '../../../../main/runtime/engine';
import { fixtureDir, readTextPack } from '../text/helpers';
import { fixtureSae, hfEntry } from './helpers';

describe('text-lm engines by manifest', () => {
  const open: AnyEngine[] = [];
  afterAll(async () => {
    for (const e of open) await e.dispose();
  });

  it('loads an HF entry with HfTextEngine and a split pack with TextEngine', async () => {
    const hf = await loadEngine(await hfEntry('llama-tiny', [fixtureSae('llama-tiny')]));
    open.push(hf);
    expect(hf).toBeInstanceOf(HfTextEngine);
    expect(hf.info().saes).toEqual([
      { id: 'sae', hook: 'blocks.1.hook_resid_post', dIn: 64, dSae: 256, architecture: 'topk' },
    ]);
    const split = await loadEngine(await readTextPack(fixtureDir));
    open.push(split);
    expect(split).toBeInstanceOf(TextEngine);
  });
});

describe('model warnings', () => {
  it('become one notice per pack and text, once', () => {
    const board = new NoticeBoard();
    const seen: string[] = [];
    board.subscribe((n) => seen.push(`${n.kind}: ${n.title} ${n.message}`));
    expect(board.modelWarning('gpt2', 'SAE "j" is a JumpReLU SAE …')).not.toBeNull();
    expect(board.modelWarning('gpt2', 'SAE "j" is a JumpReLU SAE …')).toBeNull();
    board.modelWarning('other', 'SAE "j" is a JumpReLU SAE …');
    expect(seen).toEqual([
      'model_warning: Model gpt2: SAE "j" is a JumpReLU SAE …',
      'model_warning: Model other: SAE "j" is a JumpReLU SAE …',
    ]);
  });
});
