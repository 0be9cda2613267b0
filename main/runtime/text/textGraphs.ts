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
 * many sessions never need the split graphs. Those and the prefixes and tails are held within
 * a budget of model bytes (keptBudget, keptSessions.ts): past it, the least recently used that
 * no run is using close, and open again (read and merged anew) when next run. Without the
 * whole graph (graphs the merge refuses, or that ORT will not open merged), the split graphs
 * open at load, serve every step and stay open.
 */
import { promises as fs } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';
import { OrreryError } from '../../../preload/contract';
import type { TextSegment } from '../../packs/textSegments';
import { readGraph } from '../../onnx/graph';
import { OnnxSession } from '../onnx';
import { outputsField } from '../onnxExpose';
import { concat } from '../protobuf';
import { SessionKeeper, type GraphSession } from './keptSessions';
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
  /** Its session, opened on first call (and again after the keeper closed it). */
  session(): Promise<GraphSession>;
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
  /** Model bytes of the sessions open besides the whole graph, and the most they may be. */
  kept(): { bytes: number; budget: number };
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
  /**
   * Model bytes the sessions besides the whole graph may hold open (default keptBudget: a
   * quarter of the machine's memory, at least one copy of the model; tests give less).
   */
  keepBytes?: number;
}

/**
 * The default budget of the sessions besides the whole graph: at least one more copy of the
 * model (a pin/scale step's prefix and tail), else a quarter of the machine's memory. A small
 * or middling model keeps every prefix and tail it made (reopening one costs a read, a merge
 * and a session: ~0.1 s for the 14 MB default pack, seconds for a large one); a model of
 * several GB keeps about one more copy instead of one per hook.
 */
export function keptBudget(modelBytes: number, memory = totalmem()): number {
  return Math.max(modelBytes, memory / 4);
}

/** A graph file as read (textGraphs' readFile). */
interface GraphFile {
  pieces: readonly Uint8Array[];
  /** The file's size (what a session of it holds, about). */
  bytes: number;
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
      bytes: bytes.byteLength,
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

  // (sizes, not the files: the bytes read are not kept past the opening)
  const sizes = read.map((r) => r.file.bytes);
  const bytesOf = (first: number, last: number): number =>
    sizes.slice(first, last + 1).reduce((sum, b) => sum + b, 0);
  /** Segment k's file as a part of a merge. */
  const partOf = (k: number, file: GraphFile): MergePart => ({
    segment: o.plan[k] as TextSegment,
    model: file.pieces,
    newKv: file.newKv,
    positions: positions[k] ?? false,
  });
  /** Segments first…last merged and opened (openMerged), their files read again. */
  const mergeAgain = async (first: number, last: number) => {
    const files = await Promise.all(o.plan.slice(first, last + 1).map(readFile));
    return openMerged(
      files.map((f, i) => partOf(first + i, f)),
      first,
      last,
      sessionOpts,
    );
  };

  // The whole graph, merged from the files as read, or null (the split graphs serve).
  const whole =
    o.merge !== false && n > 0
      ? await openMerged(
          read.map((r, k) => partOf(k, r.file)),
          0,
          n,
          sessionOpts,
        ).catch(() => null)
      : null;
  const merged = whole !== null;
  // Every other session within a budget (keptBudget), when the whole graph serves.
  const keeper = new SessionKeeper(merged ? (o.keepBytes ?? keptBudget(bytesOf(0, n))) : Infinity);

  // Prefixes and tails by the segments they run ("first-last"), made on first need, kept
  // (a closed one is merged again from the files when next run).
  const groups = new Map<string, Promise<StepGraph | null>>();
  const openGroup = (first: number, last: number): Promise<StepGraph | null> => {
    const key = `${first}-${last}`;
    let g = groups.get(key);
    if (!g) {
      g = (async () => {
        const made = await mergeAgain(first, last);
        if (!made) return null;
        const kept = keeper.keep(
          bytesOf(first, last),
          async () => {
            const again = await mergeAgain(first, last);
            if (!again) throw bad(`graphs ${first}-${last} no longer merge`);
            return again.session;
          },
          made.session,
        );
        return { ...made.graph, session: () => Promise.resolve(kept) };
      })().catch(() => null);
      groups.set(key, g);
    }
    return g;
  };
  // The bytes read, until the split graph's session takes them; with the whole graph open,
  // a split graph opened later is read again rather than kept in memory meanwhile.
  const pending: (readonly Uint8Array[] | null)[] = read.map((r) =>
    merged ? null : r.file.pieces,
  );

  const segments: Segment[] = read.map(({ seg, file: { newKv, bytes } }, k) => {
    const kept = keeper.keep(bytes, async () => {
      const model = pending[k];
      pending[k] = null;
      return create(seg.rel, model ?? (await readFile(seg)).pieces);
    });
    return {
      ...seg,
      first: k,
      last: k,
      positions: positions[k] ?? false,
      residIn: seg.from === null ? null : 'hook_resid',
      steering: new Map(seg.from === null ? [] : [[seg.from, 'steering']]),
      newKv,
      session: () =>
        kept.opened().then(
          () => kept,
          (e: unknown) => {
            throw e instanceof OrreryError ? e : bad(`${seg.rel}: ${(e as Error).message}`);
          },
        ),
    };
  });

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
            whole && first === 0 && end === n
              ? whole.graph
              : merged && end > first && (first === 0 || end === n)
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
    await whole?.session.release();
    await keeper.release();
    groups.clear();
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
  const held = (): { bytes: number; budget: number } => ({
    bytes: keeper.openBytes,
    budget: keeper.budget,
  });
  return { segments, merged, appendable, plan, kept: held, release };
}

/**
 * Consecutive graphs merged and opened, or null (the split graphs then serve): when the
 * merge refuses them, ORT will not open the result, or its inputs and outputs are not those
 * a step feeds and fetches. Its graph's session() is the session opened here.
 */
async function openMerged(
  parts: readonly MergePart[],
  first: number,
  last: number,
  sessionOpts: { intraOpThreads: number },
): Promise<{ graph: StepGraph; session: OnnxSession } | null> {
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
  const graph: StepGraph = {
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
  return { graph, session };
}
