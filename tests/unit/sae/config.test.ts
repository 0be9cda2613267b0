import { describe, expect, it } from 'vitest';
import { parseSaeConfig, SaeConfigError } from '../../../main/sae';

const base = { d_in: 16, d_sae: 64 };

describe('parseSaeConfig', () => {
  it('reads a SAELens 6 config', () => {
    const c = parseSaeConfig(
      {
        ...base,
        architecture: 'topk',
        k: 8,
        hook_name: 'blocks.2.hook_resid_post',
        apply_b_dec_to_input: false,
        normalize_activations: 'layer_norm',
        metadata: { hook_name: 'ignored.when.top.level.exists' },
      },
      'cfg.json',
    );
    expect(c).toEqual({
      architecture: 'topk',
      dIn: 16,
      dSae: 64,
      k: 8,
      hookName: 'blocks.2.hook_resid_post',
      applyBDecToInput: false,
      normalizeActivations: 'layer_norm',
      centerInput: false,
      prependBos: true,
      contextSize: null,
      format: 'current',
    });
  });

  it('reads center_writing_weights, prepend_bos and context_size at the top level or in metadata', () => {
    const top = parseSaeConfig(
      {
        ...base,
        model_from_pretrained_kwargs: { center_writing_weights: true, fold_ln: true },
        prepend_bos: false,
        context_size: 128,
      },
      'cfg.json',
    );
    expect(top).toMatchObject({ centerInput: true, prependBos: false, contextSize: 128 });
    const v6 = parseSaeConfig(
      {
        ...base,
        architecture: 'standard',
        metadata: {
          hook_name: 'blocks.1.hook_resid_post',
          model_from_pretrained_kwargs: { center_writing_weights: true },
          context_size: 64,
        },
      },
      'cfg.json',
    );
    expect(v6).toMatchObject({ centerInput: true, prependBos: true, contextSize: 64 });
    expect(
      parseSaeConfig({ ...base, model_from_pretrained_kwargs: {} }, 'cfg.json').centerInput,
    ).toBe(false);
  });

  it('takes the hook from metadata and k from activation_fn_kwargs', () => {
    const c = parseSaeConfig(
      {
        ...base,
        architecture: 'topk',
        activation_fn_kwargs: { k: 5 },
        metadata: { hook_name: 'latent' },
      },
      'cfg.json',
    );
    expect([c.k, c.hookName, c.applyBDecToInput, c.normalizeActivations]).toEqual([
      5,
      'latent',
      true,
      'none',
    ]);
  });

  it('reads pre-6 configs: hook_point, activation_fn_str, boolean normalize_activations', () => {
    const topk = parseSaeConfig(
      {
        ...base,
        hook_point: 'blocks.0.hook_resid_pre',
        activation_fn_str: 'topk',
        activation_fn_kwargs: { k: 4 },
        normalize_activations: true,
      },
      'cfg.json',
    );
    expect(topk).toMatchObject({
      architecture: 'topk',
      k: 4,
      hookName: 'blocks.0.hook_resid_pre',
      normalizeActivations: 'expected_average_only_in',
      format: 'legacy',
    });
    const relu = parseSaeConfig(
      {
        ...base,
        architecture: 'standard',
        activation_fn_str: 'relu',
        normalize_activations: false,
      },
      'cfg.json',
    );
    expect(relu).toMatchObject({ architecture: 'standard', k: null, normalizeActivations: 'none' });
    expect(parseSaeConfig({ ...base, activation_fn: 'topk', k: 2 }, 'c').architecture).toBe('topk');
    expect(parseSaeConfig({ ...base, architecture: 'jumprelu' }, 'c').architecture).toBe(
      'jumprelu',
    );
    expect(parseSaeConfig({ ...base, architecture: 'gated' }, 'c').architecture).toBe('gated');
  });

  it('reads the emoji fixture pack cfg', async () => {
    const { readFile } = await import('node:fs/promises');
    const file = 'tests/fixtures/packs/emoji-tiny/sae/latent/cfg.json';
    const c = parseSaeConfig(JSON.parse(await readFile(file, 'utf8')), file);
    expect(c).toMatchObject({ architecture: 'topk', dIn: 8, dSae: 32, k: 4, hookName: 'latent' });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'an unknown architecture',
      { ...base, architecture: 'matryoshka_batchtopk' },
      /unknown SAE architecture "matryoshka_batchtopk" \(supported: standard, topk, jumprelu, gated\)/,
    ],
    [
      'an unknown activation',
      { ...base, activation_fn_str: 'tanh-relu' },
      /unknown activation function "tanh-relu"/,
    ],
    ['a topk without k', { ...base, architecture: 'topk' }, /a topk SAE needs k/],
    [
      'k larger than d_sae',
      { ...base, architecture: 'topk', k: 65 },
      /k = 65 is larger than d_sae = 64/,
    ],
    ['a missing d_in', { d_sae: 64 }, /d_in: Invalid input/],
    ['a fractional d_sae', { d_in: 4, d_sae: 2.5 }, /d_sae: /],
    [
      'an unknown normalisation',
      { ...base, normalize_activations: 'rms' },
      /normalize_activations/,
    ],
    [
      'a fine-tuning scale',
      { ...base, finetuning_scaling_factor: true },
      /finetuning_scaling_factor/,
    ],
    ['absurd sizes', { d_in: 65_536, d_sae: 1 << 20 }, /exceeds the limit/],
    ['not an object', 'topk', /\(root\)/],
  ];
  it.each(bad)('rejects %s, naming the file', (_what, raw, message) => {
    expect(() => parseSaeConfig(raw, 'packs/x/sae/cfg.json')).toThrow(SaeConfigError);
    expect(() => parseSaeConfig(raw, 'packs/x/sae/cfg.json')).toThrow(message);
    expect(() => parseSaeConfig(raw, 'packs/x/sae/cfg.json')).toThrow(
      /^packs\/x\/sae\/cfg\.json: /,
    );
  });
});
