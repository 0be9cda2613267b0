/**
 * The carry-across figure (issue 18): presets on one SAE carried through a built bridge to
 * another SAE of the text pack and run there; does the carried preset do what the source
 * preset's feature reads? For each preset (one add dial on a source feature), the share of the
 * source feature's top tokens among sampled tokens, before (no dials) and after (the carried
 * dial on the target SAE), same prompts and seeds; a preset counts when after > before. A
 * control carries each preset to a random target feature at the same strength instead.
 *
 * There is one text model, so the two sides are the text pack's shipped layer-2 SAE (the side
 * the runtime steers) and the layer-0 SAE trained for the cross-layer figure (FIGURES.md): the
 * presets are on layer 0 and carried to layer 2.
 *   npx tsx bench/bridgeLayer/carry.ts <pack dir> <layer-0 SAE folder> <bridge file>
 *        [--presets 10] [--strength 2] [--examples 1000]
 * The bridge file is the CLI's `bridge build <pack dir> <pack dir>#<layer-0 SAE folder>`
 * (side a: the pack's SAE, side b: the layer-0 SAE). Source features: a seeded pick among live
 * layer-0 features whose best layer-2 match is shared (r ≥ the bridge's sharedAt). Strength: the
 * source dial is `strength` × the feature's max activation over the examples read; the layer-0
 * SAE has no index (no calibration), so carry.ts rescales by max activations on both sides.
 * Top tokens: the distinct tokens of the feature's 20 strongest activations over the first
 * `examples` examples.
 */
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { carryDials, type FeatureRange } from '../../main/bridge/carry';
import { bridgeState, openBridge } from '../../main/bridge/meta';
import { featureMatches } from '../../main/bridge/read';
import { openSide, openSideReader } from '../../main/bridge/sides';
import { Gemm } from '../../main/index/build/gemm';
import { mulberry32 } from '../../main/index/build/rng';
import { loadPackCorpus } from '../../main/index/corpus';
import { getFeature } from '../../main/index/feature';
import { openIndex } from '../../main/index';
import { unpackIndex } from '../../main/index/packedIndex';
import { isHfModel } from '../../main/packs/manifest';
import { TextEngine } from '../../main/runtime/text/textEngine';
import type { DialInput } from '../../preload/contract';

const PROMPTS = ['The Lord said unto', 'A computer is', 'He who laughs', 'The meaning of'];
const SEEDS = [1, 2, 3];
const SAMPLING = { maxTokens: 48, temperature: 0.8, topK: 0, topP: 1 };

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [packDir, saeFolder, bridgeFile] = args;
  if (!packDir || !saeFolder || !bridgeFile)
    throw new Error('usage: carry.ts <pack dir> <layer-0 SAE folder> <bridge file>');
  const nPresets = flag(args, 'presets', 10);
  const strength = flag(args, 'strength', 2);
  const nExamples = flag(args, 'examples', 1000);
  const t0 = performance.now();

  const target = await openSide(packDir);
  const source = await openSide(`${packDir}#${saeFolder}`);
  const m = target.pack.manifest;
  if (m.kind !== 'text-lm' || isHfModel(m.model)) throw new Error('a split text pack is needed');
  const bridge = openBridge(bridgeFile, { readonly: true });
  const state = bridgeState(bridge);
  if (state?.stage !== 'done') throw new Error(`${bridgeFile} is not a built bridge`);
  if (state.a.sae !== target.saeId || state.b.sae !== source.saeId)
    throw new Error(
      `${bridgeFile} is ${state.a.sae} ↔ ${state.b.sae}, not ${target.saeId} ↔ ${source.saeId}`,
    );

  // the source SAE's codes over the first examples: max activation and top tokens per feature
  const corpus = await loadPackCorpus(target.pack, 'auto');
  const examples = corpus.examples.slice(0, nExamples);
  const gemm = await Gemm.create(1);
  const reader = await openSideReader(source, { ...corpus, examples }, gemm);
  const tokenizer = new Tokenizer(
    JSON.parse(await fs.readFile(path.join(target.pack.dir, m.model.tokenizer), 'utf8')) as object,
    { clean_up_tokenization_spaces: false },
  );
  const d = source.sae.dSae;
  const maxAct = new Float32Array(d);
  const hits: { v: number; t: string }[][] = Array.from({ length: d }, () => []);
  for (let c = 0; c < examples.length; c += 32) {
    const ex = examples.slice(c, c + 32);
    const chunk = await reader.read(ex);
    const tokens: string[] = [];
    for (const e of ex) {
      const ids = tokenizer
        .encode(e.body ?? '', { add_special_tokens: false })
        .ids.slice(0, m.model.context - 1);
      for (const id of ids) tokens.push(tokenizer.decode([id], { skip_special_tokens: false }));
    }
    const { codes } = chunk;
    if (codes.rows !== tokens.length) throw new Error('rows and tokens differ');
    for (let r = 0; r < codes.rows; r++)
      for (let e = codes.start[r] as number; e < (codes.start[r + 1] as number); e++) {
        const j = codes.feature[e] as number;
        const v = codes.value[e] as number;
        if (v > (maxAct[j] as number)) maxAct[j] = v;
        const h = hits[j] as { v: number; t: string }[];
        h.push({ v, t: tokens[r] as string });
        if (h.length > 200) {
          h.sort((x, y) => y.v - x.v);
          h.length = 20;
        }
      }
  }
  await reader.dispose();
  await gemm.dispose();
  const topTokens = (j: number): Set<string> =>
    new Set(
      [...(hits[j] as { v: number; t: string }[])]
        .sort((x, y) => y.v - x.v)
        .slice(0, 20)
        .map((h) => h.t),
    );
  const codesSeconds = (performance.now() - t0) / 1000;

  // the target SAE's ranges and titles from the pack's shipped index
  const dir = mkdtempSync(path.join(tmpdir(), 'orrery-carry-'));
  if (!m.index) throw new Error('the pack ships no index');
  await unpackIndex(path.join(target.pack.dir, m.index), path.join(dir, 'index.sqlite'));
  const index = openIndex(path.join(dir, 'index.sqlite'), { readonly: true });
  const targetRange = (j: number): FeatureRange => {
    const c = getFeature(index, target.saeId, j);
    return {
      maxAct: c?.maxAct ?? 0,
      typical: c?.calibration?.typical ?? null,
      label: c?.label ?? null,
    };
  };

  // presets: a seeded pick among live source features with a shared best match
  const candidates: number[] = [];
  for (let j = 0; j < d; j++) {
    if ((maxAct[j] as number) <= 0) continue;
    const fm = featureMatches(bridge, 'b', j);
    if (fm.status === 'shared') candidates.push(j);
  }
  const rand = mulberry32(1913);
  const picks: number[] = [];
  while (picks.length < Math.min(nPresets, candidates.length)) {
    const j = candidates[Math.floor(rand() * candidates.length)] as number;
    if (!picks.includes(j)) picks.push(j);
  }

  const engine = await TextEngine.load(target.pack, { intraOpThreads: 1 });
  const ctx = { signal: new AbortController().signal };
  const run = async (dials: DialInput[]): Promise<{ before: string[]; after: string[] }> => {
    const before: string[] = [];
    const after: string[] = [];
    for (const prompt of PROMPTS)
      for (const seed of SEEDS) {
        const out = await engine.generate(
          { packId: m.id, prompt, dials, sampling: { ...SAMPLING, seed } },
          ctx,
        );
        before.push(...out.before.tokens);
        after.push(...out.after.tokens);
      }
    return { before, after };
  };
  const share = (tokens: string[], set: Set<string>): number =>
    tokens.length === 0 ? 0 : tokens.filter((t) => set.has(t)).length / tokens.length;

  const rows: {
    source: number;
    top: string[];
    target: number;
    label: string | null;
    r: number;
    value: number;
    before: number;
    after: number;
    control: number;
  }[] = [];
  const randTarget = mulberry32(7);
  for (const j of picks) {
    const dial: DialInput = {
      saeId: source.saeId,
      feature: j,
      method: 'add',
      value: strength * (maxAct[j] as number),
    };
    const draft = await carryDials([dial], {
      toSae: target.saeId,
      matches: (f) => featureMatches(bridge, 'b', f),
      sourceRange: (f) => ({ maxAct: maxAct[f] as number, typical: null, label: null }),
      targetRange,
    });
    const row = draft.rows[0];
    if (!row) continue;
    const set = topTokens(j);
    const carried = await run([row.dial]);
    // control: the same strength relative to a random target feature's max activation
    const other = Math.floor(randTarget() * target.sae.dSae);
    const otherRange = targetRange(other);
    const control = await run([
      { ...row.dial, feature: other, value: strength * otherRange.maxAct },
    ]);
    rows.push({
      source: j,
      top: [...set],
      target: row.feature,
      label: row.label,
      r: row.score,
      value: row.dial.value,
      before: share(carried.before, set),
      after: share(carried.after, set),
      control: share(control.after, set),
    });
    const last = rows[rows.length - 1];
    console.error(JSON.stringify(last));
  }
  const raised = rows.filter((r) => r.after > r.before).length;
  const controlRaised = rows.filter((r) => r.control > r.before).length;
  console.log(
    JSON.stringify(
      {
        pack: m.id,
        source: `${source.saeId} (${source.hook})`,
        target: `${target.saeId} (${target.hook})`,
        presets: rows.length,
        candidates: candidates.length,
        strength: `${strength} × source max activation, rescaled by max activations`,
        sampling: { ...SAMPLING, prompts: PROMPTS.length, seeds: SEEDS },
        raised,
        controlRaised,
        seconds: (performance.now() - t0) / 1000,
        codesSeconds,
        loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
      },
      null,
      1,
    ),
  );
  console.log(
    '\n| layer-0 feature | its top tokens | carried to layer-2 | title | r | strength | share before | after | control (random feature) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  for (const r of rows)
    console.log(
      `| ${r.source} | ${r.top
        .slice(0, 6)
        .map((t) => JSON.stringify(t))
        .join(
          ' ',
        )} | ${r.target} | ${r.label ?? '—'} | ${r.r.toFixed(3)} | ${r.value.toFixed(2)} | ${pct(r.before)} | ${pct(r.after)} | ${pct(r.control)} |`,
    );
  index.close();
  bridge.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
