/**
 * Galaxy benchmarks (issues 7 and 19; the cold start is bench/coldStart.ts), in one chromium
 * run: frame time of the galaxy's star field for 100k and 1M synthetic points against a bare
 * THREE.Points scene with the same points (the ratio is what counts: headless chromium draws
 * with SwiftShader on the CPU), with and without the level of detail; CPU hover picks; a 10%
 * selection update; lasso resolution in the worker for small to screen-wide polygons.
 *
 * The page (renderer/bench/galaxy.html) is bundled here with vite, served from 127.0.0.1 and
 * driven by Debian's chromium through playwright-core.
 *
 *   npx tsx bench/galaxy.ts [--sizes 100000,1000000] [--frames N] [--cpu-only]
 */
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { GalaxyBenchResult } from '../renderer/bench/galaxyBenchResult';
import { launchChromium } from '../tests/support/browser';

const root = path.resolve(__dirname, '..');

async function bundle(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({
    configFile: false,
    logLevel: 'warn',
    root: path.join(root, 'renderer', 'bench'),
    build: {
      outDir,
      emptyOutDir: true,
      rollupOptions: { input: path.join(root, 'renderer', 'bench', 'galaxy.html') },
    },
  });
}

const types: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(dir, rel === '/' ? 'galaxy.html' : rel);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({
        server,
        url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/galaxy.html`,
      });
    }),
  );
}

/** CPU milliseconds (this process; one thread busy) and wall milliseconds of fn. */
function cpuTime<T>(fn: () => T): { cpu: number; wall: number; value: T } {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const value = fn();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1000, wall: performance.now() - w0, value };
}

/**
 * The lasso and the hover pick measured in node by CPU time (the page's wall-clock figures
 * swell with the machine's load; CPU time much less): the same MaskLasso, PointGrid and
 * StarField/CpuPicker code the worker and the page run, on the same synthetic map and view.
 */
async function cpuFigures(n: number): Promise<void> {
  const { synthetic } = await import('../renderer/bench/synthetic');
  const { MaskLasso } = await import('../renderer/src/galaxy/lassoMask');
  const { PointGrid, setGridFor } = await import('../renderer/src/galaxy/pointGrid');
  const { StarField } = await import('../renderer/src/galaxy/starField');
  const { createGalaxyStore } = await import('../renderer/src/galaxy/store');
  const { PerspectiveCamera, Matrix4 } = await import('three');
  const map = synthetic(n);
  const camera = new PerspectiveCamera(
    50,
    1280 / 800,
    map.bounds.radius * 0.01,
    map.bounds.radius * 40,
  );
  camera.position.set(0, 0, map.bounds.radius * 2.6);
  camera.lookAt(0, 0, 0);
  camera.updateMatrixWorld();
  const grid = cpuTime(() => new PointGrid(map.positions));
  setGridFor(map, grid.value);
  const store = createGalaxyStore();
  store.load('bench', 'bench', map);
  const field = new StarField(map, store.state);
  field.sync(store);
  field.frame(camera, 800, 1);
  const picks: number[] = [];
  let tested = 0;
  for (let i = 0; i < 48; i++) {
    const t = cpuTime(() => field.pick(camera, 200 + i * 18, 250 + ((i * 37) % 300), 1280, 800));
    if (i >= 8) picks.push(t.cpu);
    tested = Math.max(tested, field.lastPickTested);
  }
  picks.sort((a, b) => a - b);
  const m = new Matrix4()
    .multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse)
    .toArray();
  const blob = (rx: number, ry: number): number[] => {
    const poly: number[] = [];
    for (let k = 0; k < 64; k++) {
      const a = (2 * Math.PI * k) / 64;
      poly.push(640 + rx * Math.cos(a) * (1 + 0.2 * Math.sin(5 * a)), 400 + ry * Math.sin(a));
    }
    return poly;
  };
  const lasso = new MaskLasso();
  const out = new Uint32Array(n);
  const shapes: [string, number[]][] = [
    ['small', blob(60, 40)],
    ['third', blob(380, 260)],
    ['most', blob(620, 390)],
    ['thin ring', [...blob(500, 330), ...blob(480, 310).reverse()]],
  ];
  const rows: string[] = [];
  for (const [name, poly] of shapes) {
    const q = { matrix: m, width: 1280, height: 800, polygon: poly };
    lasso.resolve(map.positions, q, out, grid.value);
    const runs = [0, 1, 2].map(() =>
      cpuTime(() => lasso.resolve(map.positions, q, out, grid.value)),
    );
    runs.sort((a, b) => a.cpu - b.cpu);
    const r = runs[1] ?? runs[0];
    rows.push(`${name} ${r?.cpu.toFixed(1)} ms CPU (${r?.value.toLocaleString('en')} hits)`);
  }
  const k = (n / 1000).toLocaleString('en');
  console.log(
    `  node, CPU time (load ${loadavg()[0]?.toFixed(2)}), ${k}k: grid build ${grid.cpu.toFixed(0)} ms · hover pick (CPU) median ${picks[picks.length >> 1]?.toFixed(2)} ms, worst ${picks[picks.length - 1]?.toFixed(2)} ms (≤ ${tested.toLocaleString('en')} tested) · lasso ${rows.join(' · ')}`,
  );
  field.dispose();
}

/** The bare baseline: a node server process, a page, one WebGL frame (no app code). */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export async function benchGalaxy(opts: { sizes?: number[]; frames?: number } = {}): Promise<void> {
  const sizes = opts.sizes ?? [100_000, 1_000_000];
  console.log(
    `\n== galaxy (chromium, SwiftShader WebGL, 1280×800, pixel ratio 1; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );
  const out = mkdtempSync(path.join(tmpdir(), 'orrery-galaxy-bench-'));
  const results: GalaxyBenchResult[] = [];
  let server: Server | null = null;
  const browser = await launchChromium();
  try {
    await bundle(out);
    const served = await serve(out);
    server = served.server;
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(served.url);
    await page.waitForSelector('body[data-ready="true"]');
    for (const n of sizes) {
      const r = await page.evaluate(
        ([count, f]) => {
          const run = (
            globalThis as unknown as {
              runGalaxyBench?: (n: number, f: number) => Promise<GalaxyBenchResult>;
            }
          ).runGalaxyBench;
          if (!run) throw new Error('the bench page did not load');
          return run(count, f);
        },
        [n, opts.frames ?? Math.max(3, Math.round(400_000 / n))] as const,
      );
      results.push(r);
      const k = (n / 1000).toLocaleString('en');
      console.log(
        `${k}k points (load ${loadavg()[0]?.toFixed(2)}): galaxy ${r.galaxyMs.toFixed(1)} ms/frame drawing ${r.drawn.toLocaleString('en')} (level of detail), bare THREE.Points ${r.bareMs.toFixed(1)} ms/frame, ratio ${(r.galaxyMs / r.bareMs).toFixed(2)}× (goal ${n >= 1_000_000 ? '≤ 1.2' : '≤ 1.0'}); every point drawn ${r.fullMs.toFixed(1)} ms, ${(r.fullMs / r.bareMs).toFixed(2)}×`,
      );
      console.log(
        `  CPU hover pick ${r.pickMs.toFixed(2)} ms median, ${r.pickMaxMs.toFixed(2)} ms worst (≤ ${r.pickTested.toLocaleString('en')} points tested, ${r.picked}/24 hits; goal ≤ 16 ms) · grid in the worker ${r.gridMs.toFixed(0)} ms · star field build ${r.fieldMs.toFixed(0)} ms · select 10% + upload + frame ${r.selectMs.toFixed(1)} ms`,
      );
      console.log(
        `  lasso (worker / round trip, goal ≤ 50 ms): ${r.lasso.map((l) => `${l.name} ${l.workerMs.toFixed(1)} / ${l.wallMs.toFixed(1)} ms (${l.hits.toLocaleString('en')} hits)`).join(' · ')}${r.heapBytes ? ` · page JS heap ${(r.heapBytes / 2 ** 20).toFixed(0)} MiB` : ''}`,
      );
    }
  } finally {
    await browser.close();
    server?.close();
    rmSync(out, { recursive: true, force: true });
  }
  if (results.length !== sizes.length) throw new Error('the galaxy bench did not finish');
  for (const n of sizes) await cpuFigures(n);
}

if (require.main === module && process.argv.includes('--cpu-only')) {
  const sizes = arg('--sizes')?.split(',').map(Number) ?? [1_000_000];
  (async () => {
    for (const n of sizes) await cpuFigures(n);
  })().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else if (require.main === module) {
  const sizes = arg('--sizes')?.split(',').map(Number);
  const frames = arg('--frames');
  benchGalaxy({ sizes, frames: frames ? Number(frames) : undefined }).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
