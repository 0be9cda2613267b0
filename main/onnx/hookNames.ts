/**
 * TransformerLens names of the residual stream's hooks and where they sit on the chain of
 * residual tensors r0 → r1 → … → r2L of a pre-norm decoder with L blocks: block N reads
 * r2N (hook_resid_pre), adds attention to make r2N+1 (hook_resid_mid) and the MLP to make
 * r2N+2 (hook_resid_post, which is also block N+1's hook_resid_pre). The steering input of
 * a hook is named `steer.<hook>`. Beside the stream, block N's `attn.hook_z` is the attention's
 * per-head output flattened to [batch, seq, n_heads·d_head] (index h·d_head + d, as SAELens
 * flattens it): the input of the attention's output projection.
 */
export type ResidKind = 'hook_resid_pre' | 'hook_resid_mid' | 'hook_resid_post';

export const hookName = (block: number, kind: ResidKind): string => `blocks.${block}.${kind}`;

/** Block N's attention output before its output projection (SAELens hook_z, flattened). */
export const zHookName = (block: number): string => `blocks.${block}.attn.hook_z`;

export const steerInputName = (hook: string): string => `steer.${hook}`;

/**
 * The hooks on residual tensor r_k, in the order TransformerLens runs them: r2N+2 is block N's
 * resid_post, then block N+1's resid_pre (a steering added at the first shows in the second).
 */
export function hooksAt(k: number, nLayers: number): string[] {
  if (k === 0) return [hookName(0, 'hook_resid_pre')];
  if (k % 2 === 1) return [hookName((k - 1) / 2, 'hook_resid_mid')];
  const block = k / 2 - 1;
  const out = [hookName(block, 'hook_resid_post')];
  if (block + 1 < nLayers) out.push(hookName(block + 1, 'hook_resid_pre'));
  return out;
}

/** Every hook of an L-block model, block by block (pre, mid, post). */
export function allHooks(nLayers: number): string[] {
  const out: string[] = [];
  for (let b = 0; b < nLayers; b++) {
    out.push(hookName(b, 'hook_resid_pre'), hookName(b, 'hook_resid_mid'));
    out.push(hookName(b, 'hook_resid_post'));
  }
  return out;
}

/**
 * Every hook of an L-block model in TransformerLens order, hook_z included: resid_pre,
 * attn.hook_z, resid_mid, resid_post of each block.
 */
export function allHooksWithZ(nLayers: number): string[] {
  const out: string[] = [];
  for (let b = 0; b < nLayers; b++) {
    out.push(hookName(b, 'hook_resid_pre'), zHookName(b), hookName(b, 'hook_resid_mid'));
    out.push(hookName(b, 'hook_resid_post'));
  }
  return out;
}
