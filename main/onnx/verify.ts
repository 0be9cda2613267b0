/**
 * The rewired graph's self-check on load, with one-token inputs (no cache). With one token at
 * position 0 everything after a residual tensor is a function of that tensor alone, so the
 * check can prove each hook is the whole stream there:
 * (a) with every steering at zero, the logits equal the original graph's (when given);
 * (b) for each steered hook that is also exposed: run token B with steering r_A − r_B at the
 *     hook (activation patching): the logits and every exposed hook after it must equal token
 *     A's, and every exposed hook up to it (the value before its steering) must stay B's;
 * (c) a steered hook that is not exposed must at least move the logits;
 * (d) a steered attn.hook_z (patching does not apply: resid_mid also carries resid_pre) must
 *     move the logits, leave its own exposed value as it was, and, when its block's resid_mid
 *     is exposed, move it linearly (steering 2d moves it twice as far as d: the steering
 *     enters only through the linear output projection).
 * A mismatch throws OrreryError('bad_pack') naming the hook and the size of the difference.
 */
import { OrreryError } from '../../preload/contract/result';
import type { OnnxSession, TensorLike } from '../runtime/onnx';
import { decoderFeeds } from './decoderFeeds';
import { allHooks, hookName, steerInputName } from './hookNames';
import type { ResidualMap } from './residual';

export interface VerifyOptions {
  /** The graph before surgery: its logits must equal the rewired graph's at zero steering. */
  original?: OnnxSession;
  /** Two token ids to compare (default 1 and 2). */
  tokens?: [number, number];
  /** Largest allowed difference, relative to the larger of 1 and the values' size (1e-4). */
  tolerance?: number;
}

export interface VerifyReport {
  /** One line per check, with the largest difference it saw. */
  checks: string[];
}

function floats(t: TensorLike | undefined, what: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) {
    throw new OrreryError('bad_pack', `The rewired graph did not return '${what}' as float32.`);
  }
  return t.data;
}

/** Largest |a − b| relative to max(1, max |a|). */
function relDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let size = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
    size = Math.max(size, Math.abs(a[i] ?? 0));
  }
  return diff / size;
}

/** Checks `rewired` (a graph from rewireDecoder) against the residual map it was made with. */
export async function verifyRewired(
  rewired: OnnxSession,
  map: ResidualMap,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const tol = options.tolerance ?? 1e-4;
  const [a, b] = options.tokens ?? [1, 2];
  const inputs = rewired.inputs;
  const exposed = new Set(rewired.outputs.map((o) => o.name));
  const order = allHooks(map.nLayers);
  const steered = order.filter((h) => inputs.some((i) => i.name === steerInputName(h)));
  const zSteered = inputs
    .map((i) => /^steer\.(blocks\.(\d+)\.attn\.hook_z)$/.exec(i.name))
    .filter((m): m is RegExpExecArray => m !== null);
  const checks: string[] = [];
  const fail = (hook: string, what: string, diff: number): never => {
    throw new OrreryError(
      'bad_pack',
      `The rewired graph failed its self-check at hook '${hook}': ${what} (difference ${diff.toExponential(2)}, allowed ${tol}).`,
    );
  };
  const run = (
    id: number,
    given: Record<string, TensorLike> = {},
  ): Promise<Record<string, TensorLike>> => rewired.run(decoderFeeds(inputs, [id], null, given));
  const runA = await run(a);
  const runB = await run(b);
  const logitsA = floats(runA.logits, 'logits');
  const logitsB = floats(runB.logits, 'logits');
  if (options.original) {
    const orig = await options.original.run(decoderFeeds(options.original.inputs, [b], null), [
      'logits',
    ]);
    const diff = relDiff(floats(orig.logits, 'logits'), logitsB);
    if (diff > Math.min(tol, 1e-5))
      fail('(none)', 'the logits at zero steering differ from the original graph', diff);
    checks.push(`logits at zero steering = original (${diff.toExponential(1)})`);
  }
  for (const hook of steered) {
    const at = order.indexOf(hook);
    if (!exposed.has(hook)) {
      const meta = inputs.find((i) => i.name === steerInputName(hook));
      const last = meta?.shape[meta.shape.length - 1];
      const width = typeof last === 'number' && last > 0 ? last : (map.dModel ?? 0);
      const push = Float32Array.from({ length: width }, (_, i) => (i % 2 === 0 ? 1 : -1));
      const moved = await run(b, { [steerInputName(hook)]: { dims: [1, 1, width], data: push } });
      const diff = relDiff(floats(moved.logits, 'logits'), logitsB);
      if (!(diff > 0)) fail(hook, 'a steering there does not change the logits', diff);
      checks.push(`${hook}: steering moves the logits (${diff.toExponential(1)})`);
      continue;
    }
    const rA = floats(runA[hook], hook);
    const rB = floats(runB[hook], hook);
    const patch = rA.map((v, i) => v - (rB[i] ?? 0));
    const patched = await run(b, {
      [steerInputName(hook)]: { dims: [1, 1, patch.length], data: patch },
    });
    let worst = relDiff(logitsA, floats(patched.logits, 'logits'));
    if (worst > tol)
      fail(hook, "patching token A's value there does not give token A's logits", worst);
    for (const other of order) {
      if (!exposed.has(other)) continue;
      const after = order.indexOf(other) > at;
      const want = floats((after ? runA : runB)[other], other);
      const diff = relDiff(want, floats(patched[other], other));
      if (diff > tol) {
        fail(hook, `patched, the exposed '${other}' is not token ${after ? 'A' : 'B'}'s`, diff);
      }
      worst = Math.max(worst, diff);
    }
    checks.push(
      `${hook}: patching gives the patched token's logits and downstream hooks (${worst.toExponential(1)})`,
    );
  }
  for (const [, hook = '', block = '0'] of zSteered) {
    const meta = inputs.find((i) => i.name === steerInputName(hook));
    const last = meta?.shape[meta.shape.length - 1];
    const width = typeof last === 'number' && last > 0 ? last : (map.widths.get(hook) ?? 0);
    const push = (scale: number): Record<string, TensorLike> => ({
      [steerInputName(hook)]: {
        dims: [1, 1, width],
        data: Float32Array.from({ length: width }, (_, i) => (i % 3 === 0 ? scale : -scale / 2)),
      },
    });
    const once = await run(b, push(1));
    let diff = relDiff(floats(once.logits, 'logits'), logitsB);
    if (!(diff > 0)) fail(hook, 'a steering there does not change the logits', diff);
    let worst = 0;
    if (exposed.has(hook)) {
      worst = relDiff(floats(runB[hook], hook), floats(once[hook], hook));
      if (worst > tol) fail(hook, 'its exposed value changes with its own steering', worst);
    }
    const mid = hookName(Number(block), 'hook_resid_mid');
    if (exposed.has(mid)) {
      const twice = await run(b, push(2));
      const base = floats(runB[mid], mid);
      const d1 = floats(once[mid], mid).map((v, i) => 2 * (v - (base[i] ?? 0)));
      const d2 = floats(twice[mid], mid).map((v, i) => v - (base[i] ?? 0));
      diff = relDiff(d2, d1);
      if (diff > tol) fail(hook, `steering moves '${mid}' non-linearly`, diff);
      worst = Math.max(worst, diff);
    }
    checks.push(
      `${hook}: steering moves the logits, linearly at resid_mid (${worst.toExponential(1)})`,
    );
  }
  return { checks };
}
