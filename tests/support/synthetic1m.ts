/**
 * An end-to-end SAE of 1,048,576 features built by code (never committed): clustered decoder
 * directions (d_in 256), written as a real SAELens folder (cfg.json, sae_weights.safetensors,
 * sparsity.safetensors) inside a real text pack folder, and a real feature index SQLite (the
 * app's schema through its migrations: features, FTS labels, top examples with token windows,
 * nearest features, clusters, map blobs and the map's quality figure).
 *
 *   import { synthetic1m, installIndex } from '../support/synthetic1m';
 *   const s = await synthetic1m();            // cached: built once per version under tmpdir
 *   // app: resolveConfig(mode, root, { models: s.modelsDir, home, allow: [...] })
 *   installIndex(s, home);                     // copies the index to <home>/index/<packId>.sqlite
 *   // then index.map / index.search / index.feature with { packId: s.packId, saeId: s.saeId }
 *
 * CLI: `npx tsx tests/support/synthetic1m.ts [--n 1048576] [--layout landmarks|themes] [--dir D]`.
 *
 * Decoder rows: `themes` cluster centres; each feature = centre + a point on its theme's own
 * 3-dimensional subspace + small isotropic noise, so neighbourhoods have structure a 3D map can
 * keep (an isotropic blob in 256 dims has none; a 3-dim subspace is what a 3D map can show). Labels read like Neuronpedia explanations:
 * a theme word shared by the theme's features plus two pseudo-words, so a word search finds a
 * theme and a 3–4 letter prefix matches thousands of rows.
 *
 * layout 'landmarks' (default) runs the app's own layout (main/index/build/landmarks.ts);
 * 'themes' places each feature from its theme centre and subspace coordinates (seconds; for
 * tests that need a 1M map but not a real layout).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  writeSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openIndex } from '../../main/index';
import { clusterLabel, kmeans3 } from '../../main/index/build/clusters';
import { Gemm } from '../../main/index/build/gemm';
import { normalizeRows } from '../../main/index/build/knn';
import { layoutMap, nearestCentroid } from '../../main/index/build/landmarks';
import { mulberry32 } from '../../main/index/build/rng';
import { migrations } from '../../main/index/migrations';
import { floatToHalfBits } from '../../main/sae/safetensors';

/** Bumped when what a cached synthetic holds changes (2: the landmark refine's new defaults; 3:
 * 70 refine epochs, 100 landmark epochs). */
export const SYNTHETIC_VERSION = 3;

export interface SyntheticOptions {
  /** default os.tmpdir()/orrery-synthetic-<n>-<layout>-v<version> */
  dir?: string;
  n?: number;
  dIn?: number;
  themes?: number;
  layout?: 'landmarks' | 'themes';
  seed?: number;
  /** Rebuild even when a finished copy is there. */
  force?: boolean;
  log?: (s: string) => void;
}

export interface Synthetic {
  dir: string;
  /** the folder to pass as the app's models folder (holds packDir) */
  modelsDir: string;
  packDir: string;
  packId: string;
  saeId: string;
  saeDir: string;
  /** the built index; copy it with installIndex before the app opens it */
  indexFile: string;
  n: number;
  dIn: number;
  themes: number;
  layout: 'landmarks' | 'themes';
  /** recall@10 of the stored map (NaN for the themes layout) */
  recall10: number;
  /** how long the build took (seconds; layout part separately) */
  seconds: number;
  layoutSeconds: number;
  layoutCpuSeconds: number;
  /** a word in many labels (a theme word) and a label word unique to feature `probe` */
  probe: { feature: number; word: string; theme: string };
}

export const THEME_WORDS = (
  'bible verse psalm king fortune cookie science work love computer hacker jargon noun verb ' +
  'dictionary webster emoji face smiling heart hand animal food travel symbol flag serif sans ' +
  'bold italic mono weight slant width cursive script gothic roman grotesque display text ' +
  'number punctuation vowel consonant plural past present future question exclamation colour ' +
  'river mountain ocean forest desert city village market church school doctor music dance ' +
  'poem story letter money trade ship train horse dog cat bird fish tree flower fruit bread'
).split(' ');

const SYL = [
  'ba',
  'ke',
  'lo',
  'mi',
  'nu',
  'ra',
  'se',
  'ti',
  'vo',
  'za',
  'qu',
  'ex',
  'or',
  'an',
  'il',
  'th',
];

/** 20k pseudo-words made of syllables (the FTS bench's vocabulary). */
export function pseudoWords(count = 20_000): string[] {
  return Array.from({ length: count }, (_, i) => {
    let w = '';
    let v = i + 300;
    while (v > 0) {
      w += SYL[v % SYL.length] as string;
      v = Math.floor(v / SYL.length);
    }
    return w;
  });
}

/** Each theme's own subspace (its features vary along LATENT directions) and the noise. */
export const LATENT = 3;
export const NOISE = 0.15;

/**
 * n decoder rows [n, d] in `themes` families: centre + a LATENT-dim subspace of the theme + noise.
 * Feature i belongs to theme (i · 7919) mod themes (themes are interleaved over the indices).
 * Returns the rows and each feature's theme and subspace coordinates.
 */
export function clusteredDecoder(
  n: number,
  d: number,
  themes: number,
  seed = 1,
): { dec: Float32Array; theme: Uint16Array; coords: Float32Array } {
  const rand = mulberry32(seed);
  const gauss = (): number =>
    Math.sqrt(-2 * Math.log(Math.max(1e-12, rand()))) * Math.cos(2 * Math.PI * rand());
  const r = LATENT;
  const centres = Float32Array.from({ length: themes * d }, gauss);
  const basis = Float32Array.from({ length: themes * r * d }, () => gauss() * 0.6);
  const dec = new Float32Array(n * d);
  const theme = new Uint16Array(n);
  const coords = new Float32Array(n * r);
  const z = new Float32Array(r);
  for (let i = 0; i < n; i++) {
    const t = (i * 7919) % themes;
    theme[i] = t;
    for (let l = 0; l < r; l++) z[l] = gauss();
    coords.set(z, i * r);
    const o = i * d;
    const co = t * d;
    const bo = t * r * d;
    for (let c = 0; c < d; c++) {
      let v = (centres[co + c] as number) + NOISE * gauss();
      for (let l = 0; l < r; l++) v += (z[l] as number) * (basis[bo + l * d + c] as number);
      dec[o + c] = v;
    }
  }
  return { dec, theme, coords };
}

/** Writes F16 tensors to a safetensors file without holding the file in memory. */
function writeSafetensorsF16(
  file: string,
  tensors: { name: string; shape: number[]; fill: (out: Uint16Array, start: number) => void }[],
): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype: 'F16', shape: t.shape, data_offsets: [offset, offset + count * 2] };
    offset += count * 2;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const fd = openSync(file, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(json));
    const chunk = 1 << 20;
    const buf = new Uint16Array(chunk);
    for (const t of tensors) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      for (let s = 0; s < count; s += chunk) {
        const part = buf.subarray(0, Math.min(chunk, count - s));
        t.fill(part, s);
        writeSync(fd, part);
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function defaultDir(n: number, layout: string): string {
  return path.join(
    os.tmpdir(),
    `orrery-synthetic-${n}-${layout}-v${SYNTHETIC_VERSION}-m${migrations.length}`,
  );
}

/** Builds (or finds, when built before) the synthetic SAE, pack and index. */
export async function synthetic1m(o: SyntheticOptions = {}): Promise<Synthetic> {
  const n = o.n ?? 1 << 20;
  const d = o.dIn ?? 256;
  const themes = o.themes ?? 512;
  const layout = o.layout ?? 'landmarks';
  const dir = o.dir ?? defaultDir(n, layout);
  const log = o.log ?? ((): void => undefined);
  const packId = `orrery-synthetic-${n}`;
  const saeId = `synthetic-${n}`;
  const modelsDir = path.join(dir, 'packs');
  const packDir = path.join(modelsDir, 'synthetic');
  const saeDir = path.join(packDir, 'sae');
  const indexFile = path.join(dir, 'index.sqlite');
  const doneFile = path.join(dir, 'done.json');
  if (!o.force && existsSync(doneFile)) {
    return JSON.parse(readFileSync(doneFile, 'utf8')) as Synthetic;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(saeDir, { recursive: true });
  const t0 = performance.now();
  const rand = mulberry32((o.seed ?? 1) ^ 0x51);

  log(`decoder ${n}×${d} in ${themes} themes`);
  const { dec, theme, coords } = clusteredDecoder(n, d, themes, o.seed ?? 1);

  // The pack: the tiny text fixture's model and tokenizer (the galaxy, search and cards never
  // run it), and the SAE folder. It cannot steer: the model's width is not 256.
  const fixture = path.resolve(__dirname, '..', 'fixtures', 'packs', 'text-tiny');
  for (const g of ['below.onnx', 'above.onnx']) {
    copyFileSync(path.join(fixture, g), path.join(packDir, g));
  }
  copyFileSync(path.join(fixture, 'tokenizer.json'), path.join(packDir, 'tokenizer.json'));
  const hook = 'blocks.0.hook_resid_post';
  writeFileSync(
    path.join(packDir, 'manifest.json'),
    JSON.stringify(
      {
        format: 1,
        id: packId,
        name: `Synthetic SAE of ${n} features`,
        kind: 'text-lm',
        version: `${SYNTHETIC_VERSION}.0.0`,
        license: 'Generated by tests/support/synthetic1m.ts (no data)',
        source: `${n} clustered decoder directions in ${themes} themes, d_in ${d}; synthetic activations and labels. The model is the tiny text fixture: galaxy, search and cards only.`,
        model: {
          onnx: { below: 'below.onnx', above: 'above.onnx' },
          tokenizer: 'tokenizer.json',
          hook,
          d_model: d,
          n_layers: 2,
          n_heads: 2,
          d_head: 8,
          context: 64,
          vocab_size: 300,
          bos_token_id: 1,
          eos_token_id: 2,
        },
        saes: [{ id: saeId, hook, dir: 'sae' }],
      },
      null,
      1,
    ),
  );
  writeFileSync(
    path.join(saeDir, 'cfg.json'),
    JSON.stringify(
      {
        architecture: 'topk',
        d_in: d,
        d_sae: n,
        k: 32,
        dtype: 'float16',
        device: 'cpu',
        apply_b_dec_to_input: true,
        normalize_activations: 'none',
        hook_name: hook,
        hook_layer: 0,
        model_name: packId,
        metadata: {
          model_name: packId,
          hook_name: hook,
          trained_by: 'tests/support/synthetic1m.ts',
        },
      },
      null,
      1,
    ),
  );
  // W_dec rows scaled to unit norm (as SAELens trains them); W_enc = W_decᵀ.
  const unit = normalizeRows(dec, n, d);
  log('writing sae_weights.safetensors (F16)');
  writeSafetensorsF16(path.join(saeDir, 'sae_weights.safetensors'), [
    {
      name: 'W_enc',
      shape: [d, n],
      fill: (out, s) => {
        for (let t = 0; t < out.length; t++) {
          const e = s + t;
          const c = Math.floor(e / n);
          out[t] = floatToHalfBits(unit[(e - c * n) * d + c] as number);
        }
      },
    },
    {
      name: 'W_dec',
      shape: [n, d],
      fill: (out, s) => {
        for (let t = 0; t < out.length; t++) out[t] = floatToHalfBits(unit[s + t] as number);
      },
    },
    { name: 'b_enc', shape: [n], fill: (out) => out.fill(0) },
    { name: 'b_dec', shape: [d], fill: (out) => out.fill(0) },
  ]);

  // Synthetic activations: a density and activation scale per feature.
  const density = new Float32Array(n);
  const maxAct = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    density[i] = 10 ** (-5 + 4 * rand());
    maxAct[i] = 1 + 19 * rand();
  }
  writeSafetensorsF16(path.join(saeDir, 'sparsity.safetensors'), [
    {
      name: 'sparsity',
      shape: [n],
      fill: (out, s) => {
        for (let t = 0; t < out.length; t++)
          out[t] = floatToHalfBits(Math.log10(density[s + t] as number));
      },
    },
  ]);

  // The map.
  log(`layout (${layout})`);
  const c0 = process.cpuUsage();
  const l0 = performance.now();
  let xyz: Float32Array;
  let nearIdx: Int32Array;
  let nearSim: Float32Array;
  let nearK: number;
  let recall10 = Number.NaN;
  let method = 'themes';
  let landmarkCount = 0;
  if (layout === 'landmarks') {
    const gemm = await Gemm.create(2);
    try {
      const m = await layoutMap(gemm, unit, n, d, {
        seed: o.seed ?? 1,
        onProgress: (stage, done, total) => {
          if (stage !== 'umap' || done % 50 === 0) log(`  ${stage} ${done}/${total}`);
        },
      });
      xyz = m.xyz;
      nearIdx = m.neighbours.indices;
      nearSim = m.neighbours.sims;
      nearK = m.neighbours.k;
      recall10 = m.recall10;
      method = m.method;
      landmarkCount = m.landmarks.length;
    } finally {
      await gemm.dispose();
    }
  } else {
    // theme centres on a sphere of radius 10, the subspace coordinates around them
    xyz = new Float32Array(n * 3);
    const cx = Float32Array.from({ length: themes * 3 }, () => rand() * 2 - 1);
    for (let t = 0; t < themes; t++) {
      const len =
        Math.hypot(cx[t * 3] as number, cx[t * 3 + 1] as number, cx[t * 3 + 2] as number) || 1;
      for (let a = 0; a < 3; a++) cx[t * 3 + a] = ((cx[t * 3 + a] as number) / len) * 10;
    }
    for (let i = 0; i < n; i++) {
      const t = theme[i] as number;
      for (let a = 0; a < 3; a++)
        xyz[i * 3 + a] = (cx[t * 3 + a] as number) + 0.25 * (coords[i * LATENT + a] as number);
    }
    // nearest: ten other members of the same theme
    nearK = 10;
    nearIdx = new Int32Array(n * nearK);
    nearSim = new Float32Array(n * nearK);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < nearK; t++) {
        nearIdx[i * nearK + t] = (i + (t + 1) * themes * 7919) % n;
        nearSim[i * nearK + t] = 0.9 - t * 0.01;
      }
    }
  }
  const layoutCpu = process.cpuUsage(c0);
  const layoutSeconds = (performance.now() - l0) / 1000;
  const layoutCpuSeconds = (layoutCpu.user + layoutCpu.system) / 1e6;
  log(
    `layout ${layoutSeconds.toFixed(1)} s wall, ${layoutCpuSeconds.toFixed(1)} s cpu, recall@10 ${recall10}`,
  );

  // Clusters: k-means on a sample of the map, every point to its nearest centre.
  const sampleN = Math.min(n, 65_536);
  const step = n / sampleN;
  const sample = new Float32Array(sampleN * 3);
  for (let s = 0; s < sampleN; s++) {
    const i = Math.floor(s * step);
    sample.set(xyz.subarray(i * 3, i * 3 + 3), s * 3);
  }
  const km = kmeans3(sample, sampleN, 64, 7, 20);
  const assign = nearestCentroid(xyz, n, km.centroids);

  // Labels.
  const vocab = pseudoWords();
  const themeWord = (t: number): string => THEME_WORDS[t % THEME_WORDS.length] as string;
  const labelOf = new Array<string>(n);
  const tokensOf = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const t = theme[i] as number;
    const w1 = vocab[Math.floor(rand() * vocab.length)] as string;
    const w2 = vocab[(i * 31 + t) % vocab.length] as string;
    labelOf[i] = `${themeWord(t)} ${w1} ${w2}`;
    tokensOf[i] = `${w1} ${themeWord(t + 7)}`;
  }

  log('writing the index');
  rmSync(indexFile, { force: true });
  const db = openIndex(indexFile);
  try {
    db.pragma('synchronous = OFF');
    const now = new Date().toISOString();
    db.prepare(
      `insert into saes(sae_id, hook, kind, d_sae, d_in, architecture, n_examples, n_positions, built_at)
       values (?, ?, 'text-lm', ?, ?, 'topk', ?, ?, ?)`,
    ).run(saeId, hook, n, d, 4096, 4096 * 64, now);
    db.prepare(
      `insert into build_state(sae_id, fingerprint, stage, chunks_done, chunks_total, n_positions, started_at, finished_at)
       values (?, 'synthetic', 'done', 1, 1, ?, ?, ?)`,
    ).run(saeId, 4096 * 64, now, now);
    const exIns = db.prepare(
      'insert into examples(id, name, body, meta, split) values (?, ?, ?, ?, null)',
    );
    const exampleTokens: string[][] = [];
    db.transaction(() => {
      for (let e = 0; e < 4096; e++) {
        const toks = Array.from({ length: 12 }, () => vocab[Math.floor(rand() * 2000)] as string);
        exampleTokens.push(toks);
        exIns.run(
          e + 1,
          `synthetic text ${e + 1}`,
          toks.join(' '),
          JSON.stringify({ group: themeWord(e) }),
        );
      }
    })();
    const fIns = db.prepare(
      `insert into features(id, sae_id, idx, label, label_source, auto_label, auto_source, description,
         top_tokens, density, n_active, max_act, mean_act, x, y, z, cluster)
       values (?, ?, ?, ?, 'neuronpedia', ?, 'top-tokens', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const ftsIns = db.prepare(
      'insert into feature_fts(rowid, label, notes, description, top_tokens) values (?, ?, ?, ?, ?)',
    );
    const topIns = db.prepare(
      `insert into top_examples(sae_id, idx, rank, example_id, activation, position, window)
       values (?, ?, ?, ?, ?, ?, ?)`,
    );
    const nearIns = db.prepare(
      'insert into nearest(sae_id, idx, neighbours, cosines) values (?, ?, ?, ?)',
    );
    const blob = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const show = Math.min(10, nearK);
    const batch = 65_536;
    for (let s = 0; s < n; s += batch) {
      db.transaction(() => {
        for (let i = s; i < Math.min(n, s + batch); i++) {
          const label = labelOf[i] as string;
          const tokens = tokensOf[i] as string;
          const desc = `explanation: ${label}`;
          const dens = density[i] as number;
          const mx = maxAct[i] as number;
          fIns.run(
            i + 1,
            saeId,
            i,
            label,
            tokens,
            desc,
            JSON.stringify(tokens.split(' ')),
            dens,
            Math.round(dens * 4096 * 64),
            mx,
            mx / 3,
            xyz[i * 3],
            xyz[i * 3 + 1],
            xyz[i * 3 + 2],
            assign[i],
          );
          ftsIns.run(i + 1, label, '', desc, tokens);
          for (let r = 0; r < 2; r++) {
            const ex = ((i * 2654435761) >>> 0) % 4096;
            const e = (ex + r * 17) % 4096;
            const toks = (exampleTokens[e] as string[]).slice(0, 6);
            const acts = toks.map((_, p) => (p === 3 ? mx * (1 - r * 0.2) : mx * 0.05 * p));
            topIns.run(
              saeId,
              i,
              r,
              e + 1,
              mx * (1 - r * 0.2),
              3,
              JSON.stringify({ tokens: toks, acts, start: 0, focus: 3 }),
            );
          }
          nearIns.run(
            saeId,
            i,
            blob(nearIdx.slice(i * nearK, i * nearK + show)),
            blob(nearSim.slice(i * nearK, i * nearK + show)),
          );
        }
      })();
      log(`  ${Math.min(n, s + batch)}/${n} features written`);
    }
    const members: { label: string | null; source: string | null }[][] = Array.from(
      { length: km.k },
      () => [],
    );
    for (let i = 0; i < n; i += 16)
      (members[assign[i] as number] as { label: string | null; source: string | null }[]).push({
        label: themeWord(theme[i] as number),
        source: 'metadata',
      });
    const sizes = new Uint32Array(km.k);
    for (let i = 0; i < n; i++)
      sizes[assign[i] as number] = (sizes[assign[i] as number] as number) + 1;
    const cIns = db.prepare(
      'insert into clusters(sae_id, id, label, size, cx, cy, cz) values (?, ?, ?, ?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (let c = 0; c < km.k; c++) {
        cIns.run(
          saeId,
          c,
          clusterLabel(members[c] ?? [], c).replace(/ \(\d+ of \d+\)$/, ''),
          sizes[c],
          km.centroids[c * 3],
          km.centroids[c * 3 + 1],
          km.centroids[c * 3 + 2],
        );
      }
      db.prepare(
        'insert into map_blobs(sae_id, count, idx, xyz, cluster, density) values (?, ?, ?, ?, ?, ?)',
      ).run(
        saeId,
        n,
        blob(Uint32Array.from({ length: n }, (_, i) => i)),
        blob(xyz),
        blob(assign),
        blob(density),
      );
      db.prepare(
        `insert into map_quality(sae_id, method, n, landmarks, recall10, sample, seconds)
         values (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        saeId,
        method,
        n,
        landmarkCount,
        Number.isNaN(recall10) ? null : recall10,
        1000,
        layoutSeconds,
      );
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const probeFeature = Math.floor(n / 3);
  const result: Synthetic = {
    dir,
    modelsDir,
    packDir,
    packId,
    saeId,
    saeDir,
    indexFile,
    n,
    dIn: d,
    themes,
    layout,
    recall10,
    seconds: (performance.now() - t0) / 1000,
    layoutSeconds,
    layoutCpuSeconds,
    probe: {
      feature: probeFeature,
      word: (labelOf[probeFeature] as string).split(' ')[2] as string,
      theme: themeWord(theme[probeFeature] as number),
    },
  };
  writeFileSync(doneFile, JSON.stringify(result, null, 1));
  log(`done in ${result.seconds.toFixed(1)} s: ${dir}`);
  return result;
}

/** Copies the synthetic index to where the app looks for it: <dataDir>/index/<packId>.sqlite. */
export function installIndex(s: Synthetic, dataDir: string): string {
  const target = path.join(dataDir, 'index', `${s.packId}.sqlite`);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(s.indexFile, target);
  return target;
}

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1]?.replace(/\\/g, '/').endsWith('tests/support/synthetic1m.ts')) {
  synthetic1m({
    n: arg('--n') ? Number(arg('--n')) : undefined,
    layout: (arg('--layout') as 'landmarks' | 'themes' | undefined) ?? undefined,
    dir: arg('--dir'),
    force: process.argv.includes('--force'),
    log: (s) => console.log(s),
  }).then(
    (s) => {
      console.log(JSON.stringify(s, null, 1));
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
