/**
 * Opens a split text-lm pack's graphs for the text engine (textEngine.ts): each graph file
 * with its layers' new keys/values exposed as outputs when it makes every present as
 * Concat(past, new) (KvAppend), checked for the inputs and outputs PACK_FORMAT.md names, and
 * all of them merged into the whole graph (mergedGraph.ts) that serves every step that need
 * not stop at a hook. plan() gives the graphs of a step that stops at some hooks (pin/scale
 * there, or rows that share their pass below the first): the graphs between two stops run
 * as one where they are a prefix or a tail of the run (merged on first need), else one by
 * one; a merged graph's weights are one more copy in ORT, and prefixes and tails alone cover
 * the usual steps (pin/scale at one hook) with at most one copy more.
 *
 * With the whole graph open, the split graphs' sessions open on first use (a pin/scale step,
 * rows that share their pass below the first hook, forward(), the SAE readers), read again
 * from the pack then: the fortunes pack's weights are 14 MB, a user's may be far larger, and
 * many sessions never need the split graphs. Without it (graphs the merge refuses, or that
 * ORT will not open merged), the split graphs open at load and serve every step.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { OrreryError } from '../../../preload/contract';
import type { TextSegment } from '../../packs/textSegments';
import { readGraph } from '../../onnx/graph';
import { OnnxSession } from '../onnx';
import { outputsField } from '../onnxExpose';
import { concat } from '../protobuf';
import { kvName, newKvTensors, type NewKvNames } from './kvCache';
import { mergeGraphs, type MergePart } from './mergedGraph';

/**
 * A graph one step runs: a split graph, or consecutive ones merged (mergedGraph.ts). It runs
 * the segments first…last of the plan and the blocks `layers`; reads tokens (from null) or
 * the residual at hook `from` (residIn) plus steering there; gives logits (to null) or the
 * residual at hook `to` (output).
 */
export interface StepGraph {
  first: number;
  last: number;
  from: string | null;
  to: string | null;
  layers: number[];
  /** Whether it reads position_ids. */
  positions: boolean;
  residIn: string | null;
  output: string;
  /** The steering input of each hook it adds steering at: hook → input name. */
  steering: ReadonlyMap<string, string>;
  /** present.{l}.key/value → its new keys/values output (null: whole presents). */
  newKv: NewKvNames | null;
  /** Its session, opened on first call. */
  session(): Promise<OnnxSession>;
}

/** One split graph: its place in the run (main/packs/textSegments) and its session. */
export type Segment = TextSegment & StepGraph;

export interface TextGraphs {
  /** The split graphs in run order (below, middle…, above). */
  segments: Segment[];
  /** Whether the split graphs could be merged (the whole graph is open). */
  merged: boolean;
  /** Whether every graph exposes its new keys/values (the cache grows by them: KvAppend). */
  appendable: boolean;
  /**
   * The graphs a step runs, in order, when it must stop at the hooks `breaks` (indices into
   * the hooks, in order) to read the residual there: the whole graph when there are none.
   */
  plan(breaks: readonly number[]): Promise<StepGraph[]>;
  release(): Promise<void>;
}

export interface OpenOptions {
  packId: string;
  dir: string;
  plan: readonly TextSegment[];
  /** For the exposed new keys/values' shape. */
  model: { n_heads: number; d_head: number };
  hooks: readonly string[];
  threads: number;
  wholePresents: boolean;
  /** Merge the graphs into one (default true; tests compare). */
  merge?: boolean;
}

/** A graph file as read (textGraphs' readFile). */
interface GraphFile {
  pieces: readonly Uint8Array[];
  newKv: NewKvNames | null;
  inputs: ReadonlySet<string>;
  outputs: ReadonlySet<string>;
}

const kvNames = (io: 'past' | 'present', ls: readonly number[]): string[] =>
  ls.flatMap((l) => [kvName(io, l, 'key'), kvName(io, l, 'value')]);

/** Opens the graphs; errors are OrreryError('bad_pack') naming the file. */
export async function openTextGraphs(o: OpenOptions): Promise<TextGraphs> {
  const bad = (msg: string): OrreryError => new OrreryError('bad_pack', `pack ${o.packId}: ${msg}`);
  const sessionOpts = { intraOpThreads: o.threads };
  /**
   * A graph file, read once (a view of the file's bytes, never copied) with its inputs and
   * outputs, and its new keys/values exposed as outputs by bytes appended after it: the
   * model is `pieces` end to end, joined only for ORT (the merge reads them in place).
   */
  const readFile = async (seg: TextSegment): Promise<GraphFile> => {
    const buf = await fs.readFile(path.join(o.dir, seg.rel));
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const g = readGraph(bytes);
    const outputs = new Set(g.outputs.map((x) => x.name));
    const newKv = o.wholePresents ? null : newKvTensors(g.nodes, seg.layers);
    const add = [...(newKv?.values() ?? [])]
      .filter((name) => !outputs.has(name))
      .map((name) => ({
        name,
        type: 'float32' as const,
        shape: ['batch', o.model.n_heads, 'seq', o.model.d_head],
      }));
    return {
      pieces: add.length > 0 ? [bytes, outputsField(add)] : [bytes],
      newKv,
      inputs: new Set(g.inputs.map((x) => x.name)),
      outputs,
    };
  };
  const create = async (rel: string, pieces: readonly Uint8Array[]): Promise<OnnxSession> => {
    try {
      const model = pieces.length === 1 ? (pieces[0] as Uint8Array) : concat([...pieces]);
      return await OnnxSession.create(model, sessionOpts);
    } catch (e) {
      throw bad(`${rel} cannot be loaded by ONNX Runtime (${(e as Error).message})`);
    }
  };

  // Each graph read and checked for the inputs and outputs its place needs.
  const read: { seg: TextSegment; file: GraphFile }[] = [];
  const missing: string[] = [];
  const positions: boolean[] = [];
  for (const seg of o.plan) {
    let file: GraphFile;
    try {
      file = await readFile(seg);
    } catch (e) {
      throw bad(`${seg.rel} cannot be loaded by ONNX Runtime (${(e as Error).message})`);
    }
    const { inputs, outputs } = file;
    read.push({ seg, file });
    positions.push(inputs.has('position_ids'));
    const ins =
      seg.from === null
        ? ['input_ids', 'position_ids']
        : ['hook_resid', 'steering', ...(seg.layers.length > 0 ? ['position_ids'] : [])];
    missing.push(
      ...[...ins, ...kvNames('past', seg.layers)]
        .filter((n) => !inputs.has(n))
        .map((n) => `${seg.rel} input ${n}`),
      ...[seg.output, ...kvNames('present', seg.layers)]
        .filter((n) => !outputs.has(n))
        .map((n) => `${seg.rel} output ${n}`),
    );
  }
  if (missing.length > 0) {
    throw bad(`the graphs lack ${missing.join(', ')} (see PACK_FORMAT.md, text-lm)`);
  }
  const appendable = read.every((r) => r.file.newKv !== null);
  const n = read.length - 1;

  // Merged graphs by the segments they run ("first-last"), made on first need.
  const groups = new Map<string, Promise<StepGraph | null>>();
  const openGroup = (
    first: number,
    last: number,
    parts?: MergePart[],
  ): Promise<StepGraph | null> => {
    const key = `${first}-${last}`;
    let g = groups.get(key);
    if (!g) {
      g = (async () => {
        const ps =
          parts ??
          (await Promise.all(
            o.plan.slice(first, last + 1).map(async (seg, i) => {
              const file = await readFile(seg);
              return {
                segment: seg,
                model: file.pieces,
                newKv: file.newKv,
                positions: positions[first + i] ?? false,
              };
            }),
          ));
        return openMerged(ps, first, last, sessionOpts);
      })().catch(() => null);
      groups.set(key, g);
    }
    return g;
  };
  const merged =
    o.merge !== false &&
    n > 0 &&
    (await openGroup(
      0,
      n,
      read.map((r, k) => ({
        segment: r.seg,
        model: r.file.pieces,
        newKv: r.file.newKv,
        positions: positions[k] ?? false,
      })),
    )) !== null;
  // The bytes read, until the split graph's session takes them; with the whole graph open,
  // a split graph opened later is read again rather than kept in memory meanwhile.
  const pending: (readonly Uint8Array[] | null)[] = read.map((r) =>
    merged ? null : r.file.pieces,
  );

  const opened = new Map<number, Promise<OnnxSession>>();
  const segments: Segment[] = read.map(({ seg, file: { newKv } }, k) => ({
    ...seg,
    first: k,
    last: k,
    positions: positions[k] ?? false,
    residIn: seg.from === null ? null : 'hook_resid',
    steering: new Map(seg.from === null ? [] : [[seg.from, 'steering']]),
    newKv,
    session: () => {
      let s = opened.get(k);
      if (!s) {
        const model = pending[k];
        pending[k] = null;
        s = (model ? Promise.resolve(model) : readFile(seg).then((f) => f.pieces))
          .then((m) => create(seg.rel, m))
          .catch((e: unknown) => {
            opened.delete(k);
            throw e instanceof OrreryError ? e : bad(`${seg.rel}: ${(e as Error).message}`);
          });
        opened.set(k, s);
      }
      return s;
    },
  }));

  const plans = new Map<string, Promise<StepGraph[]>>();
  const plan = (breaks: readonly number[]): Promise<StepGraph[]> => {
    const key = breaks.join(',');
    let p = plans.get(key);
    if (!p) {
      p = (async () => {
        // Segment k ends at hook k: a break there ends a run of segments.
        const out: StepGraph[] = [];
        let first = 0;
        for (const end of [...breaks.filter((b) => b >= 0 && b < n), n]) {
          if (end < first) continue;
          // Merged: the whole graph, a prefix or a tail (a run inside runs split: each hook
          // merged with both neighbours would hold the weights many times over).
          const group =
            merged && end > first && (first === 0 || end === n)
              ? await openGroup(first, end)
              : null;
          out.push(...(group ? [group] : segments.slice(first, end + 1)));
          first = end + 1;
        }
        return out;
      })();
      plans.set(key, p);
    }
    return p;
  };

  const release = async (): Promise<void> => {
    for (const g of groups.values()) await (await g)?.session().then((s) => s.release());
    for (const s of opened.values()) {
      const session = await s.catch(() => null);
      await session?.release();
    }
    groups.clear();
    opened.clear();
    plans.clear();
  };
  if (!merged) {
    // No whole graph: the split graphs serve every step; open them now, as before.
    try {
      for (const g of segments) await g.session();
    } catch (e) {
      await release();
      throw e;
    }
  }
  return { segments, merged, appendable, plan, release };
}

/**
 * Consecutive graphs merged and opened, or null (the split graphs then serve): when the
 * merge refuses them, ORT will not open the result, or its inputs and outputs are not those
 * a step feeds and fetches.
 */
async function openMerged(
  parts: readonly MergePart[],
  first: number,
  last: number,
  sessionOpts: { intraOpThreads: number },
): Promise<StepGraph | null> {
  const merged = mergeGraphs(parts);
  if (!merged) return null;
  let session: OnnxSession;
  try {
    session = await OnnxSession.create(merged.model, sessionOpts);
  } catch {
    return null;
  }
  const inputs = new Set(session.inputs.map((x) => x.name));
  const outputs = new Set(session.outputs.map((x) => x.name));
  if (
    inputs.size !== merged.inputs.length ||
    !merged.inputs.every((x) => inputs.has(x)) ||
    !merged.outputs.every((x) => outputs.has(x))
  ) {
    await session.release();
    return null;
  }
  const from = parts[0]?.segment.from ?? null;
  const to = parts[parts.length - 1]?.segment.to ?? null;
  return {
    first,
    last,
    from,
    to,
    layers: parts.flatMap((p) => p.segment.layers),
    positions: inputs.has('position_ids'),
    residIn: merged.residIn,
    output: merged.output,
    steering: merged.steering,
    newKv: merged.newKv,
    session: () => Promise.resolve(session),
  };
}
