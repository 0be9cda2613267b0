/**
 * Whether an SAE can read a model: the hook its cfg.json names (SAELens hook_name, v5
 * hook_point, v6 metadata.hook_name) must be the hook the manifest attaches it at and one the
 * model exposes, and its d_in the width there (d_model on the residual stream, n_heads·d_head at
 * blocks.N.attn.hook_z, the attention's heads flattened as SAELens does). Checked when a text engine loads (own packs and
 * Hugging Face models alike) and by the index build; the error names both sides. Also the
 * warnings an SAE deserves once, visibly (RuntimeInfo.warnings).
 */
import { OrreryError } from '../../preload/contract/result';
import type { Sae } from '../sae';

export interface SaeSite {
  /** The SAE's id in the manifest. */
  id: string;
  /** The hook the manifest attaches it at. */
  hook: string;
}

/**
 * The hook the SAE reads; throws OrreryError('bad_pack') when the cfg's hook differs from the
 * manifest's, the model does not expose it (`hooks`: every hook it can read), or d_in is not
 * `width` (the activation's width at that hook).
 */
export function checkSaeFits(
  site: SaeSite,
  sae: Sae,
  model: { name: string; hooks: readonly string[]; width: number },
): string {
  checkSaeHookName(site, sae);
  if (!model.hooks.includes(site.hook)) {
    const list =
      model.hooks.length <= 6
        ? model.hooks.join(', ')
        : `${model.hooks.slice(0, 3).join(', ')} … ${model.hooks.slice(-2).join(', ')}`;
    throw new OrreryError(
      'bad_pack',
      `SAE "${site.id}" reads ${site.hook}, which ${model.name} does not expose (it has ${list || 'none'})`,
    );
  }
  if (sae.dIn !== model.width) {
    throw new OrreryError(
      'bad_pack',
      `SAE "${site.id}" has d_in ${sae.dIn}, but ${model.name}'s activation at ${site.hook} ` +
        `has width ${model.width}`,
    );
  }
  return site.hook;
}

/** Throws OrreryError('bad_pack') when the cfg names a hook other than the manifest's. */
export function checkSaeHookName(site: SaeSite, sae: Sae): void {
  const cfgHook = sae.config.hookName;
  if (cfgHook !== null && cfgHook !== site.hook) {
    throw new OrreryError(
      'bad_pack',
      `SAE "${site.id}" was trained at ${cfgHook} (its cfg.json's hook), but it is attached at ` +
        `${site.hook}; attach it at ${cfgHook}`,
    );
  }
}

/** Sentences a person should see once about an SAE (none for most). */
export function saeWarnings(site: SaeSite, sae: Sae): string[] {
  const out: string[] = [];
  const negative = sae.negativeThresholds();
  if (negative > 0) {
    out.push(
      `SAE "${site.id}" is a JumpReLU SAE with ${negative} negative threshold` +
        `${negative === 1 ? '' : 's'}: those features can show negative activations, which ` +
        'SAELens would report as 0.',
    );
  }
  return out;
}
