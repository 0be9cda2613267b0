/**
 * Pieces the image and typeface engines share: loading a pack's SAEs by hook, grouping the
 * contract's dials by SAE and steering with them (errors name the dial as the caller
 * numbered it), cancellation, the examples' meta lines, and "what is active" rows.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { OrreryError, type DialInput, type RuntimeInfo } from '../../../preload/contract';
import { packFile } from '../../packs/manifest';
import type { LoadedPack } from '../../packs/packReader';
import { loadSae, type Sae, SaeLoadError, steer, SteeringError, type Dial } from '../../sae';
import { OnnxSession, type IoMeta } from '../onnx';

export interface PackSae {
  id: string;
  hook: string;
  sae: Sae;
}

/** Throws OrreryError('cancelled') once the caller's signal is aborted. */
export function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OrreryError('cancelled', 'cancelled');
}

/**
 * Loads every SAE of the pack. `widths` maps each hook this kind knows to the width of the
 * activation there; an SAE on another hook, or with another d_in, is a bad pack.
 */
export async function loadPackSaes(
  pack: LoadedPack,
  widths: ReadonlyMap<string, number>,
): Promise<PackSae[]> {
  const out: PackSae[] = [];
  for (const ref of pack.manifest.saes) {
    const dIn = widths.get(ref.hook);
    if (dIn === undefined) {
      throw new OrreryError(
        'bad_pack',
        `${ref.dir}: SAE "${ref.id}" reads hook "${ref.hook}", which a ${pack.manifest.kind} ` +
          `pack does not have (hooks: ${[...widths.keys()].join(', ')})`,
      );
    }
    try {
      out.push({
        id: ref.id,
        hook: ref.hook,
        sae: await loadSae(packFile(pack.dir, ref.dir), { dIn }),
      });
    } catch (e) {
      if (e instanceof SaeLoadError) {
        throw new OrreryError('bad_pack', `SAE "${ref.id}": ${e.message}`);
      }
      throw e;
    }
  }
  return out;
}

/** Opens an ONNX graph of the pack and checks that it has the named inputs and outputs. */
export async function openGraph(
  pack: LoadedPack,
  rel: string,
  inputs: readonly string[],
  outputs: readonly string[],
  threads = 1,
): Promise<OnnxSession> {
  const file = path.join(pack.dir, rel);
  let session: OnnxSession;
  try {
    session = await OnnxSession.create(file, { intraOpThreads: threads });
  } catch (e) {
    throw new OrreryError(
      'bad_pack',
      `${rel}: ONNX runtime cannot load it (${(e as Error).message})`,
    );
  }
  const has = (list: IoMeta[], name: string) => list.some((m) => m.name === name);
  const missingIn = inputs.filter((n) => !has(session.inputs, n));
  const missingOut = outputs.filter((n) => !has(session.outputs, n));
  if (missingIn.length || missingOut.length) {
    await session.release();
    throw new OrreryError(
      'bad_pack',
      `${rel}: graph lacks ${[
        ...missingIn.map((n) => `input "${n}"`),
        ...missingOut.map((n) => `output "${n}"`),
      ].join(', ')} (PACK_FORMAT.md)`,
    );
  }
  return session;
}

/** Reads a float32 output of a run, checking its size. */
export function output(
  out: Record<string, { dims: readonly number[]; data: unknown }>,
  name: string,
  size: number,
  graph: string,
): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array) || t.data.length !== size) {
    throw new OrreryError(
      'bad_pack',
      `${graph}: output "${name}" is ${t ? `[${t.dims.join(', ')}]` : 'missing'}; expected ${size} float32 values`,
    );
  }
  return t.data;
}

export interface DialGroup {
  sae: PackSae;
  dials: Dial[];
  /** Index of each dial in the caller's list. */
  origin: number[];
}

/**
 * The caller's dials by SAE id (order kept). An unknown SAE id is a bad input; `mask`
 * is attached to dials of the SAEs for which `maskFor` says so.
 */
export function groupDials(
  dials: readonly DialInput[],
  saes: readonly PackSae[],
  maskFor: (sae: PackSae) => ArrayLike<number> | null = () => null,
): Map<string, DialGroup> {
  const groups = new Map<string, DialGroup>();
  dials.forEach((d, k) => {
    const sae = saes.find((s) => s.id === d.saeId);
    if (!sae) {
      throw new OrreryError(
        'bad_input',
        `dial ${k}: no SAE "${d.saeId}" in this pack (SAEs: ${saes.map((s) => s.id).join(', ') || 'none'})`,
      );
    }
    let g = groups.get(sae.id);
    if (!g) {
      g = { sae, dials: [], origin: [] };
      groups.set(sae.id, g);
    }
    g.dials.push({
      feature: d.feature,
      method: d.method,
      value: d.value,
      maxActivation: d.maxActivation ?? null,
      members: d.members ?? null,
      mask: maskFor(sae),
    });
    g.origin.push(k);
  });
  return groups;
}

/** steer() with errors as bad_input naming the caller's dial. h is [n, d_in]. */
export function steerGroup(g: DialGroup, h: Float32Array, n: number) {
  try {
    return steer(g.sae.sae, h, n, g.dials);
  } catch (e) {
    if (e instanceof SteeringError) {
      const k = e.dialIndex === null ? null : g.origin[e.dialIndex];
      const detail = e.message.replace(/^dial \d+: /, '');
      throw new OrreryError(
        'bad_input',
        k === null || k === undefined
          ? `SAE "${g.sae.id}": ${detail}`
          : `dial ${k} (SAE "${g.sae.id}"): ${detail}`,
      );
    }
    throw e;
  }
}

/** Throws bad_input when a steered tensor left the finite numbers. */
export function checkFinite(x: Float32Array, where: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new OrreryError(
        'bad_input',
        `the dials drive ${where} to a non-finite value; turn them down`,
      );
    }
  }
}

/** The examples' meta file: one JSON object per line → info().examples (at most `limit`). */
export async function readExampleMeta(
  pack: LoadedPack,
  rel: string,
  limit = 10_000,
): Promise<RuntimeInfo['examples']> {
  let text: string;
  try {
    text = await fs.readFile(path.join(pack.dir, rel), 'utf8');
  } catch (e) {
    throw new OrreryError('bad_pack', `${rel}: cannot be read (${(e as Error).message})`);
  }
  const out: RuntimeInfo['examples'] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && out.length < limit; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new OrreryError(
        'bad_pack',
        `${rel}: line ${i + 1} is not JSON (${(e as Error).message})`,
      );
    }
    const o = (obj ?? {}) as { name?: unknown; meta?: unknown; split?: unknown; license?: unknown };
    const meta: Record<string, unknown> =
      o.meta && typeof o.meta === 'object' ? { ...(o.meta as Record<string, unknown>) } : {};
    if (typeof o.split === 'string') meta.split = o.split;
    if (typeof o.license === 'string') meta.license = o.license;
    out.push({
      index: out.length,
      name: typeof o.name === 'string' ? o.name : `#${out.length}`,
      meta,
    });
  }
  return out;
}

export interface ActiveRows {
  rows: { label: string; features: { feature: number; value: number }[] }[];
  strongest: { feature: number; value: number }[];
}

/** Top `k` features of each of n rows of h [n, d_in], and each feature's strongest value. */
export function activeRows(
  sae: Sae,
  h: Float32Array,
  n: number,
  k: number,
  label: (row: number) => string,
): ActiveRows {
  const codes = sae.encodeSparse(h, n, k);
  const best = new Map<number, number>();
  const rows: ActiveRows['rows'] = [];
  for (let r = 0; r < n; r++) {
    const features: { feature: number; value: number }[] = [];
    for (let s = 0; s < (codes.counts[r] ?? 0); s++) {
      const feature = codes.indices[r * codes.k + s] ?? -1;
      const value = codes.values[r * codes.k + s] ?? 0;
      features.push({ feature, value });
      if (value > (best.get(feature) ?? -Infinity)) best.set(feature, value);
    }
    rows.push({ label: label(r), features });
  }
  const strongest = [...best.entries()]
    .map(([feature, value]) => ({ feature, value }))
    .sort((a, b) => b.value - a.value || a.feature - b.feature);
  return { rows, strongest };
}

/** The pack's SAE by id; an unknown id is a bad input naming the ones there are. */
export function packSae(saes: readonly PackSae[], saeId: string): PackSae {
  const sae = saes.find((s) => s.id === saeId);
  if (!sae) {
    throw new OrreryError(
      'bad_input',
      `no SAE "${saeId}" in this pack (SAEs: ${saes.map((s) => s.id).join(', ') || 'none'})`,
    );
  }
  return sae;
}

/** The picture or face a selection input names; a text is a bad input for these packs. */
export function sourceOf<S>(input: { text: string } | { source: S }, kind: string): S {
  if ('source' in input) return input.source;
  throw new OrreryError('bad_input', `a ${kind} pack reads pictures or faces, not text`);
}

export function saeInfo(saes: readonly PackSae[]): RuntimeInfo['saes'] {
  return saes.map((s) => ({
    id: s.id,
    hook: s.hook,
    dIn: s.sae.dIn,
    dSae: s.sae.dSae,
    architecture: s.sae.architecture,
  }));
}

export interface GraphSpec {
  rel: string;
  inputs: readonly string[];
  outputs: readonly string[];
}

/**
 * Opens several graphs of a pack (each with `threads` intra-op threads); if one fails, the
 * ones already open are released.
 */
export async function openGraphs(
  pack: LoadedPack,
  specs: readonly GraphSpec[],
  threads = 1,
): Promise<OnnxSession[]> {
  const sessions: OnnxSession[] = [];
  try {
    for (const g of specs) {
      sessions.push(await openGraph(pack, g.rel, g.inputs, g.outputs, threads));
    }
    return sessions;
  } catch (e) {
    await Promise.all(sessions.map((s) => s.release()));
    throw e;
  }
}

/**
 * Runs a tiny check on a freshly loaded engine (its graphs agree with the manifest's shapes)
 * before the pack is offered; on failure the engine is disposed and the pack reported.
 */
export async function checkOnLoad<E extends { dispose(): Promise<void> }>(
  pack: LoadedPack,
  engine: E,
  what: string,
  check: () => Promise<unknown>,
): Promise<E> {
  try {
    await check();
    return engine;
  } catch (e) {
    await engine.dispose();
    if (e instanceof OrreryError) throw e;
    throw new OrreryError('bad_pack', `${pack.dir}: ${what} failed (${(e as Error).message})`);
  }
}
