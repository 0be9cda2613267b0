import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OrreryError } from '../../../../preload/contract';
import { parseHfConfig, readHfConfig } from '../../../../main/runtime/hf/config';

const GPT2 = {
  model_type: 'gpt2',
  n_layer: 12,
  n_head: 12,
  n_embd: 768,
  n_positions: 1024,
  vocab_size: 50257,
  bos_token_id: 50256,
  eos_token_id: 50256,
};

const LLAMA = {
  model_type: 'llama',
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  hidden_size: 576,
  max_position_embeddings: 2048,
  vocab_size: 49152,
  bos_token_id: 1,
  eos_token_id: [2, 0],
};

describe('readHfConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-hfcfg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads GPT-2 names from a folder', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(GPT2));
    expect(await readHfConfig(dir)).toEqual({
      architecture: 'gpt2',
      d_model: 768,
      n_layers: 12,
      n_heads: 12,
      n_kv_heads: 12,
      d_head: 64,
      context: 1024,
      vocab_size: 50257,
      bos_token_id: 50256,
      eos_token_id: 50256,
    });
  });

  it('reads Llama names: grouped-query heads, an EOS list takes its first id', () => {
    const c = parseHfConfig(LLAMA, 'config.json');
    expect(c).toMatchObject({ n_layers: 30, n_heads: 9, n_kv_heads: 3, d_head: 64, context: 2048 });
    expect(c.eos_token_id).toBe(2);
    expect(parseHfConfig({ ...LLAMA, head_dim: 128 }, 'c').d_head).toBe(128);
  });

  it('refuses a config that names no layers, or heads that do not divide', () => {
    const { n_layer: _drop, ...noLayers } = GPT2;
    expect(() => parseHfConfig(noLayers, 'x/config.json')).toThrow(/n_layer or num_hidden_layers/);
    expect(() => parseHfConfig({ ...LLAMA, num_key_value_heads: 4 }, 'c')).toThrow(OrreryError);
    expect(() => parseHfConfig({ ...GPT2, bos_token_id: 60000 }, 'c')).toThrow(/vocab_size/);
  });

  it('names the file when it is missing', async () => {
    await expect(readHfConfig(join(dir, 'nope'))).rejects.toThrow(/config\.json cannot be read/);
  });
});
