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
import { mergeModels, type MergePart as ModelPart } from '../onnxMerge';
import type { TextSegment } from '../../packs/textSegments';
import { CODER_IO } from './coderGraph';
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

/** An SAE's pin/scale coder (coderGraph.ts), put in at a hook. */
export interface CoderPart {
  saeId: string;
  model: Uint8Array;
}

/** The inputs a step feeds one coder of a merged graph (coderGraph's rows, features, a, c). */
export interface CoderInputs {
  saeId: string;
  rows: string;
  features: string;
  a: string;
  c: string;
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
  /** The coders put in at each hook, in run order: hook → their inputs. */
  coders: ReadonlyMap<string, readonly CoderInputs[]>;
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
 * (onnxMerge). `coders` (hook → SAE coders) puts pin/scale dials in at hooks the graphs add
 * steering at: each coder reads the residual there and the steering so far and gives the
 * steering the next one reads (the last, the graph that reads the hook), so a step with
 * pin/scale dials need not stop at their hook. Their inputs are named code.<hook>.<k>.<name>.
 */
export function mergeGraphs(
  parts: readonly MergePart[],
  coders: ReadonlyMap<string, readonly CoderPart[]> = new Map(),
): MergedGraph | null {
  const first = parts[0]?.segment;
  const last = parts[parts.length - 1]?.segment;
  if (!first || !last) return null;
  const appendable = parts.every((p) => p.newKv !== null);
  const newKv = new Map<string, string>();
  const steering = new Map<string, string>();
  const output = last.to === null ? 'logits' : residName(last.to);
  const coderInputs = new Map<string, CoderInputs[]>();
  const models: ModelPart[] = [];
  parts.forEach(({ segment: seg, model, newKv: partKv }, k) => {
    // The steering the graph reads at its hook: the last coder's there, else the input.
    let steeringIn = seg.from === null ? null : steeringName(seg.from);
    if (seg.from !== null) {
      const hook = seg.from;
      steering.set(hook, steeringName(hook));
      (coders.get(hook) ?? []).forEach((coder, j) => {
        const at = `code.${hook}.${j}`;
        const names: CoderInputs = {
          saeId: coder.saeId,
          rows: `${at}.${CODER_IO.rows}`,
          features: `${at}.${CODER_IO.features}`,
          a: `${at}.${CODER_IO.a}`,
          c: `${at}.${CODER_IO.c}`,
        };
        const list = coderInputs.get(hook) ?? [];
        list.push(names);
        coderInputs.set(hook, list);
        const from = steeringIn as string;
        const own: Record<string, string> = {
          [CODER_IO.resid]: residName(hook),
          [CODER_IO.steering]: from,
          [CODER_IO.rows]: names.rows,
          [CODER_IO.features]: names.features,
          [CODER_IO.a]: names.a,
          [CODER_IO.c]: names.c,
          [CODER_IO.out]: `${at}.out`,
        };
        models.push({
          model: coder.model,
          nodePrefix: `${at}/`,
          rename: (name) => own[name] ?? `${at}/${name}`,
        });
        steeringIn = `${at}.out`;
      });
    }
    // The graph's own tensor of each layer's new keys/values → new.{l}.key/value.
    const fresh = new Map<string, string>();
    if (appendable) {
      for (const [present, tensor] of partKv ?? []) {
        fresh.set(tensor, newKvName(present));
        newKv.set(present, newKvName(present));
      }
    }
    models.push({
      model,
      nodePrefix: `g${k}/`,
      rename: (name: string): string => {
        if (SHARED.test(name)) return name;
        const renamed = fresh.get(name);
        if (renamed) return renamed;
        // below gives hook_resid at its hook; the others read it at theirs.
        if (name === 'hook_resid') return residName((seg.from ?? seg.to) as string);
        if (name === 'next_hook_resid' && seg.to !== null) return residName(seg.to);
        if (name === 'steering' && steeringIn !== null) return steeringIn;
        return `g${k}/${name}`;
      },
    });
  });
  // Every coder asked for has its place (a hook some graph here reads).
  for (const [hook, list] of coders) {
    if (list.length > 0 && (coderInputs.get(hook)?.length ?? 0) !== list.length) return null;
  }
  const merged = mergeModels(models, {
    name: 'merged',
    keepOutput: (name) =>
      name === output || PRESENT.test(name) || (appendable && name.startsWith('new.')),
  });
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
    coders: coderInputs,
    inputs: [
      ...(residIn ? [residIn] : ['input_ids']),
      ...(parts.some((p) => p.positions) ? ['position_ids'] : []),
      ...kv('past'),
      ...steering.values(),
      ...[...coderInputs.values()].flat().flatMap((c) => [c.rows, c.features, c.a, c.c]),
    ],
    outputs: [output, ...kv('present'), ...(fresh ? [...fresh.values()] : [])],
  };
}
