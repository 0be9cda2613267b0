/**
 * One generation step of the split-graph text engine (textEngine.ts): ids [rows, seq] at the
 * positions after the cache → logits [rows, seq, vocab], each row steered by its dials.
 *
 * A step runs the graphs of textGraphs' plan for the hooks it must stop at: a hook where a
 * live row has a pin/scale dial (its delta comes from the row's residual there, so the run
 * must end at that hook and the next one start from it), and the first hook while the rows
 * of a batch have the same tokens so far (below the first hook their caches and residuals
 * are the same, so `below` runs for the first row alone and every row takes its outputs).
 * With no stop, one run of the whole graph does the step; with stops, consecutive graphs
 * between them still run as one where the plan has merged them. Constant (add) steering
 * goes in at each hook's own steering input, in that hook's buffer.
 *
 * With a cache, each graph's new keys/values (or whole presents) are stored as it runs, and
 * one-token logits land in a buffer reused from step to step.
 */
import { OrreryError } from '../../../preload/contract';
import type { TensorLike } from '../onnx';
import type { RowState } from './generation';
import { kvName, type KvBuffers, type StepCache } from './kvCache';
import { addCodedDelta, type HookSteering } from './steerPlan';
import type { StepGraph, TextGraphs } from './textGraphs';

type Row = RowState<ReadonlyMap<string, HookSteering>>;

export interface StepModel {
  d_model: number;
  vocab_size: number;
  n_heads: number;
  d_head: number;
}

/**
 * The hooks (indices into `hooks`) a step must stop at: those where a row has pin/scale
 * dials, and the first when the rows share their pass below it (`shared`).
 */
export function stepBreaks(
  hooks: readonly string[],
  rows: readonly Row[],
  shared: boolean,
): number[] {
  const out: number[] = [];
  hooks.forEach((hook, i) => {
    if (coded(rows, hook) || (i === 0 && shared)) out.push(i);
  });
  return out;
}

/** Whether every row has generated the same tokens so far (so each is fed the same ids). */
export function sameSoFar(rows: readonly Row[]): boolean {
  const first = rows[0]?.ids ?? [];
  return rows.every((r) => r.ids.length === first.length && r.ids.every((t, i) => t === first[i]));
}

export async function textStep(
  graphs: TextGraphs,
  m: StepModel,
  hooks: readonly string[],
  rows: readonly Row[],
  ids: BigInt64Array,
  seq: number,
  kv: StepCache | null,
  buf: KvBuffers,
): Promise<Float32Array> {
  const d = m.d_model;
  const B = rows.length;
  const shared = kv !== null && B > 1 && sameSoFar(rows);
  const plan = await graphs.plan(stepBreaks(hooks, rows, shared));
  const pos0 = kv ? kv.len : 0;
  const positions = buf.positions.subarray(0, B * seq);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < seq; t++) positions[b * seq + t] = BigInt(pos0 + t);
  }
  let h: Float32Array | null = null;
  for (const g of plan) {
    const session = await g.session();
    // Rows with the same tokens so far: the graph that reads the tokens (it ends at the
    // first hook, a stop) runs for the first row alone.
    const n = g.from === null && shared ? 1 : B;
    const feeds: Record<string, TensorLike> = {};
    if (g.residIn === null) {
      feeds.input_ids = { dims: [n, seq], data: ids.subarray(0, n * seq) };
    } else {
      if (!h) throw new OrreryError('internal', `text graph: no residual for ${g.residIn}`);
      feeds[g.residIn] = { dims: [B, seq, d], data: h };
    }
    if (g.positions) feeds.position_ids = { dims: [n, seq], data: positions.subarray(0, n * seq) };
    for (const [hook, name] of g.steering) {
      const steering = steeringAt(hooks, hook, rows, seq, d, buf);
      if (coded(rows, hook))
        await addCoded(hook, rows, hook === g.from ? h : null, seq, d, steering);
      feeds[name] = { dims: [B, seq, d], data: steering };
    }
    Object.assign(feeds, kv ? kv.past(g.layers, n) : emptyPast(m, g.layers, n));

    if (g.to === null) {
      if (!kv) {
        // No cache to keep: the presents are not even fetched.
        return f32(await session.run(feeds, ['logits']), 'logits');
      }
      const V = m.vocab_size;
      const out = await session.runInto(feeds, {
        logits: seq === 1 ? { dims: [B, 1, V], data: buf.logits.subarray(0, B * V) } : null,
        ...kv.outputs(g.layers, seq, B, g.newKv ?? undefined),
      });
      kv.store(g.layers, out, seq, B, g.newKv ?? undefined);
      kv.advance(seq);
      return f32(out, 'logits');
    }
    // The residual at the graph's last hook: the first graph's into buf.hook (every row's,
    // copied from the first row's when it ran alone); a later one's in a fresh array (its
    // input may be buf.hook).
    const into = g.from === null ? buf.hook.subarray(0, B * seq * d) : null;
    const outputs = {
      [g.output]: into ? { dims: [n, seq, d], data: into.subarray(0, n * seq * d) } : null,
      ...(kv ? kv.outputs(g.layers, seq, n, g.newKv ?? undefined) : {}),
    };
    const out = await session.runInto(feeds, outputs);
    kv?.store(g.layers, out, seq, n, g.newKv ?? undefined);
    if (into) {
      const size = seq * d;
      for (let b = n; b < B; b++) into.copyWithin(b * size, 0, size);
      h = into;
    } else {
      h = f32(out, g.output);
    }
  }
  throw new OrreryError('internal', 'text graph: no graph gives logits');
}

/**
 * The steering [B, seq, d_model] added at `hook`, in that hook's buffer: each row's constant
 * delta there (addCoded then adds the deltas of its pin/scale SAEs).
 */
function steeringAt(
  hooks: readonly string[],
  hook: string,
  rows: readonly Row[],
  seq: number,
  d: number,
  buf: KvBuffers,
): Float32Array {
  const at = buf.steerings[hooks.indexOf(hook)];
  if (!at) throw new OrreryError('internal', `text graph: no steering buffer for ${hook}`);
  const steering = at.subarray(0, rows.length * seq * d);
  for (let b = 0; b < rows.length; b++) {
    const constant = rows[b]?.steering?.get(hook)?.constant;
    const o = b * seq * d;
    if (constant) {
      for (let t = 0; t < seq; t++) steering.set(constant, o + t * d);
    } else steering.fill(0, o, o + seq * d);
  }
  return steering;
}

/** Whether a row has pin/scale dials at `hook`. */
function coded(rows: readonly Row[], hook: string): boolean {
  for (const r of rows) if ((r.steering?.get(hook)?.coded.length ?? 0) > 0) return true;
  return false;
}

/** Adds to `steering` [B, seq, d_model] each row's pin/scale deltas, from the residual h there. */
async function addCoded(
  hook: string,
  rows: readonly Row[],
  h: Float32Array | null,
  seq: number,
  d: number,
  steering: Float32Array,
): Promise<void> {
  for (let b = 0; b < rows.length; b++) {
    const o = b * seq * d;
    for (const group of rows[b]?.steering?.get(hook)?.coded ?? []) {
      if (!h) throw new OrreryError('internal', `text graph: pin/scale at ${hook} inside a run`);
      await addCodedDelta(group, h.subarray(o, o + seq * d), seq, steering, o);
    }
  }
}

/** past.{l}.key/value of the layers `ls`, empty, for a batch of B. */
export function emptyPast(
  m: Pick<StepModel, 'n_heads' | 'd_head'>,
  ls: readonly number[],
  B: number,
): Record<string, TensorLike> {
  const empty = { dims: [B, m.n_heads, 0, m.d_head], data: new Float32Array(0) };
  const out: Record<string, TensorLike> = {};
  for (const l of ls) {
    out[kvName('past', l, 'key')] = empty;
    out[kvName('past', l, 'value')] = empty;
  }
  return out;
}

function f32(out: Record<string, TensorLike>, name: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) {
    throw new OrreryError('internal', `text graph: output ${name} is not float32`);
  }
  return t.data;
}

export type { StepGraph };
