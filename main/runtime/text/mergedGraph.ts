/**
 * Consecutive graphs of a split text-lm pack (below, middle…, above; main/packs/textSegments)
 * merged into one (main/runtime/onnxMerge), so that a step runs one ORT session where it ran
 * one per graph: each run has a fixed cost in onnxruntime-node (feeds and fetches crossing
 * the binding, the run's setup, each graph's own position and mask nodes), about a fifth of
 * a one-token step of the default pack split four ways. All of them merged make the "whole"
 * graph that serves every step without pin/scale dials.
 *
 * A merged graph reads what its first graph reads (input_ids, or the residual at its first
 * hook as hook_resid.<hook>), position_ids, its layers' past.{l}.key/value and one steering
 * input per hook it adds steering at, steering.<hook> [batch, seq, d_model]; it gives what
 * its last graph gives (logits, or hook_resid.<hook> at its last hook), its layers'
 * present.{l}.key/value and, when the graphs make each present as Concat(past, new), the new
 * keys/values as new.{l}.key/value (KvAppend). The residual at a hook inside it flows from
 * graph to graph (hook_resid.<hook>) and is not an output. Every other tensor and node keeps
 * its graph's name behind a prefix (g0/, g1/ …), so the graphs' own names never meet.
 */
import { mergeModels } from '../onnxMerge';
import type { TextSegment } from '../../packs/textSegments';
import { kvName, type NewKvNames } from './kvCache';

/** One split graph as the engine opens it (its new keys/values exposed as outputs). */
export interface MergePart {
  segment: TextSegment;
  /** Its bytes, or pieces that are one model end to end (onnxMerge). */
  model: Uint8Array | readonly Uint8Array[];
  /** present.{l}.key/value → the graph's tensor with the new positions (null: none). */
  newKv: NewKvNames | null;
  /** Whether it reads position_ids. */
  positions: boolean;
}

/** A merged graph's bytes and the names a step feeds and fetches. */
export interface MergedGraph {
  model: Uint8Array;
  /** The residual it reads (hook_resid.<hook>); null when it reads tokens. */
  residIn: string | null;
  /** What it gives: logits, or the residual at its last hook (hook_resid.<hook>). */
  output: string;
  /** The steering input of each hook it adds steering at: hook → input name. */
  steering: ReadonlyMap<string, string>;
  /** present.{l}.key/value → new.{l}.key/value (null when any graph keeps whole presents). */
  newKv: NewKvNames | null;
  /** Every input and output a step uses (the session must have exactly these inputs). */
  inputs: string[];
  outputs: string[];
}

/** The names the graphs share in the merged one. */
const SHARED = /^(input_ids|position_ids|logits|(past|present)\.\d+\.(key|value))$/;
const PRESENT = /^present\.\d+\.(key|value)$/;

export const residName = (hook: string): string => `hook_resid.${hook}`;
export const steeringName = (hook: string): string => `steering.${hook}`;
const newKvName = (present: string): string => present.replace(/^present\./, 'new.');

/**
 * Consecutive graphs, in run order, as one model; null when they cannot be merged safely
 * (onnxMerge).
 */
export function mergeGraphs(parts: readonly MergePart[]): MergedGraph | null {
  const first = parts[0]?.segment;
  const last = parts[parts.length - 1]?.segment;
  if (!first || !last) return null;
  const appendable = parts.every((p) => p.newKv !== null);
  const newKv = new Map<string, string>();
  const steering = new Map<string, string>();
  const output = last.to === null ? 'logits' : residName(last.to);
  const merged = mergeModels(
    parts.map(({ segment: seg, model, newKv: partKv }, k) => {
      // The graph's own tensor of each layer's new keys/values → new.{l}.key/value.
      const fresh = new Map<string, string>();
      if (appendable) {
        for (const [present, tensor] of partKv ?? []) {
          fresh.set(tensor, newKvName(present));
          newKv.set(present, newKvName(present));
        }
      }
      if (seg.from !== null) steering.set(seg.from, steeringName(seg.from));
      return {
        model,
        nodePrefix: `g${k}/`,
        rename: (name: string): string => {
          if (SHARED.test(name)) return name;
          const renamed = fresh.get(name);
          if (renamed) return renamed;
          // below gives hook_resid at its hook; the others read it at theirs.
          if (name === 'hook_resid') return residName((seg.from ?? seg.to) as string);
          if (name === 'next_hook_resid' && seg.to !== null) return residName(seg.to);
          if (name === 'steering' && seg.from !== null) return steeringName(seg.from);
          return `g${k}/${name}`;
        },
      };
    }),
    {
      name: 'merged',
      keepOutput: (name) =>
        name === output || PRESENT.test(name) || (appendable && name.startsWith('new.')),
    },
  );
  if (!merged) return null;
  const layers = parts.flatMap((p) => p.segment.layers);
  const kv = (io: 'past' | 'present'): string[] =>
    layers.flatMap((l) => [kvName(io, l, 'key'), kvName(io, l, 'value')]);
  const residIn = first.from === null ? null : residName(first.from);
  const fresh = appendable && newKv.size > 0 ? newKv : null;
  return {
    model: merged,
    residIn,
    output,
    steering,
    newKv: fresh,
    inputs: [
      ...(residIn ? [residIn] : ['input_ids']),
      ...(parts.some((p) => p.positions) ? ['position_ids'] : []),
      ...kv('past'),
      ...steering.values(),
    ],
    outputs: [output, ...kv('present'), ...(fresh ? [...fresh.values()] : [])],
  };
}
