/**
 * Map structure (issue 17's "map agreement ≥ 2× the shuffled baseline"): for each SAE of the
 * default packs, the share of features with a metadata label whose nearest labelled feature on
 * the 3-D map has the same label (quality.ts mapAgreement), against the mean over 50 label
 * shuffles — first on the positions the shipped index stores, then on maps rebuilt in a temp
 * copy of the index by the map stage with decoder cosine mixed with co-activation at several
 * weights (coactivation.ts; w = 0 is decoder cosine alone), each over two UMAP seeds, with
 * each map's recall@10 of decoder-cosine neighbours (how much of the decoder map it keeps).
 * Last, a control at the default weight: every stored top example swapped for a random example
 * with the same metadata (which examples features share is lost, what metadata their top
 * examples carry is kept) — agreement that survives it comes from the top examples' metadata,
 * the evidence the labels are chosen from, rather than from features firing together.
 *   npx tsx bench/mapStructure.ts [pack dir…] [--w 0,0.25,0.5] [--seeds 42,7]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Db } from '../main/db/connection';
import { openIndex } from '../main/index';
import { DEFAULT_MAP_COACTIVATION, mapStage } from '../main/index/build/build';
import { Gemm } from '../main/index/build/gemm';
import { normalizeRows } from '../main/index/build/knn';
import { recallAt10 } from '../main/index/build/landmarks';
import { mulberry32 } from '../main/index/build/rng';
import { unpackIndex } from '../main/index/packedIndex';
import { mapAgreement } from '../main/index/quality';
import { packFile } from '../main/packs/manifest';
import { readPack } from '../main/packs/packReader';
import { loadSae } from '../main/sae';

const PACKS = ['models/text-fortunes', 'models/emoji', 'models/glyphs'];
const SHUFFLES = 50;

/** In the (temp) index: each top example of `saeId` replaced by a random one of equal metadata. */
function shuffleWithinMetadata(db: Db, saeId: string, seed: number): void {
  const groups = new Map<string, number[]>();
  const metaOf = new Map<number, string>();
  for (const e of db.prepare('select id, meta from examples').all() as {
    id: number;
    meta: string;
  }[]) {
    metaOf.set(e.id, e.meta);
    const g = groups.get(e.meta) ?? [];
    g.push(e.id);
    groups.set(e.meta, g);
  }
  const rand = mulberry32(seed);
  const rows = db
    .prepare('select rowid as r, example_id as e from top_examples where sae_id = ?')
    .all(saeId) as { r: number; e: number }[];
  const upd = db.prepare('update top_examples set example_id = ? where rowid = ?');
  db.transaction(() => {
    for (const { r, e } of rows) {
      const g = groups.get(metaOf.get(e) ?? '') ?? [e];
      upd.run(g[Math.floor(rand() * g.length)] ?? e, r);
    }
  })();
}

const fmt = (a: { agreement: number; shuffled: number }): string =>
  `${a.agreement.toFixed(3)} / ${a.shuffled.toFixed(3)} (${(a.agreement / Math.max(a.shuffled, 1e-9)).toFixed(2)}×)`;

export async function benchMapStructure(
  dirs: readonly string[] = PACKS,
  weights: readonly number[] = [0, 0.25, 0.5, 0.75, 0.9],
  seeds: readonly number[] = [42, 7],
): Promise<void> {
  console.log(
    `\n== map structure (load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  console.log(
    'agreement / shuffled mean of 50 (ratio); rebuilt maps: the seed with the median ratio (the lower when even) [ratio range], r10 = recall@10 of decoder neighbours',
  );
  const control = `w=${DEFAULT_MAP_COACTIVATION}, top examples shuffled within metadata`;
  const head = `| pack | SAE | labelled | shipped map | ${[...weights.map((w) => `w=${w}`), control].join(' | ')} |`;
  const rows = [head, `|${'---|'.repeat(5 + weights.length)}`];
  const tmp = mkdtempSync(path.join(tmpdir(), 'orrery-mapstruct-'));
  const gemm = await Gemm.create(1);
  try {
    for (const dir of dirs) {
      const read = await readPack(dir);
      if (!read.ok) throw new Error(`${read.problem.file}: ${read.problem.message}`);
      const pack = read.pack;
      const src = packFile(dir, pack.manifest.index ?? 'features.sqlite');
      const file = path.join(tmp, `${pack.manifest.id}.sqlite`);
      await unpackIndex(src, file);
      const db = openIndex(file);
      try {
        for (const info of pack.saes) {
          const shipped = mapAgreement(db, info.id, SHUFFLES);
          if (shipped.n === 0) continue;
          const sae = await loadSae(packFile(dir, info.dir));
          const n = sae.dSae;
          const dec = new Float32Array(n * sae.dIn);
          for (let i = 0; i < n; i++) dec.set(sae.decoderRow(i), i * sae.dIn);
          const unit = normalizeRows(dec, n, sae.dIn);
          const xyzOf = (): Float32Array => {
            const xyz = new Float32Array(n * 3);
            for (const r of db
              .prepare('select idx, x, y, z from features where sae_id = ?')
              .all(info.id) as { idx: number; x: number; y: number; z: number }[])
              xyz.set([r.x, r.y, r.z], r.idx * 3);
            return xyz;
          };
          const cells: string[] = [];
          for (const w of [...weights, -1]) {
            if (w < 0) shuffleWithinMetadata(db, info.id, 5);
            const weight = w < 0 ? DEFAULT_MAP_COACTIVATION : w;
            const runs: { agreement: number; shuffled: number; r10: number }[] = [];
            for (const seed of seeds) {
              const t0 = performance.now();
              await mapStage(db, info.id, sae, gemm, seed, { mapCoactivation: weight }, () => {});
              const s = (performance.now() - t0) / 1000;
              const a = mapAgreement(db, info.id, SHUFFLES);
              const r10 = await recallAt10(gemm, unit, n, sae.dIn, xyzOf(), Math.min(n, 1000));
              runs.push({ ...a, r10 });
              console.log(
                `  ${pack.manifest.id} ${info.id} w=${weight}${w < 0 ? ' (shuffled within metadata)' : ''} seed=${seed}: ${fmt(a)} r10 ${r10.toFixed(3)} in ${s.toFixed(1)} s`,
              );
            }
            const ratio = (r: { agreement: number; shuffled: number }): number =>
              r.agreement / Math.max(r.shuffled, 1e-9);
            const sorted = [...runs].sort((a, b) => ratio(a) - ratio(b));
            const mid = sorted[Math.floor((sorted.length - 1) / 2)] as (typeof runs)[number];
            const lo = ratio(sorted[0] as (typeof runs)[number]);
            const hi = ratio(sorted[sorted.length - 1] as (typeof runs)[number]);
            cells.push(`${fmt(mid)} [${lo.toFixed(2)}–${hi.toFixed(2)}] r10 ${mid.r10.toFixed(2)}`);
          }
          rows.push(
            `| ${pack.manifest.id} | ${info.id} | ${shipped.n} | ${fmt(shipped)} | ${cells.join(' | ')} |`,
          );
        }
      } finally {
        db.close();
      }
    }
  } finally {
    await gemm.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(rows.join('\n'));
  console.log(
    `(load after: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
}

function listArg(args: string[], name: string): number[] | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = (args[i + 1] ?? '').split(',').map(Number);
  args.splice(i, 2);
  return v;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const w = listArg(args, '--w');
  const seeds = listArg(args, '--seeds');
  void benchMapStructure(args.length ? args : PACKS, w, seeds);
}
