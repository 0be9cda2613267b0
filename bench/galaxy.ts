/**
 * Galaxy benchmarks (issue 7), in one chromium run: frame time of the galaxy's star field for
 * 100k and 1M synthetic points against a bare THREE.Points scene with the same points (the
 * ratio is what counts: headless chromium draws with SwiftShader on the CPU), one GPU pick,
 * a 10% selection update, and lasso resolution time for 1M points in the worker.
 *
 * The page (renderer/bench/galaxy.html) is bundled here with vite, served from 127.0.0.1 and
 * driven by Debian's chromium through playwright-core.
 *
 *   npx tsx bench/galaxy.ts [--sizes 100000,1000000] [--frames N]
 */
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
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

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export async function benchGalaxy(opts: { sizes?: number[]; frames?: number } = {}): Promise<void> {
  const sizes = opts.sizes ?? [100_000, 1_000_000];
  console.log('\n== galaxy (chromium, SwiftShader WebGL, 1280×800, pixel ratio 1)');
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
        [n, opts.frames ?? Math.max(2, Math.round(400_000 / n))] as const,
      );
      results.push(r);
      const k = (n / 1000).toLocaleString('en');
      console.log(
        `${k}k points: galaxy ${r.galaxyMs.toFixed(1)} ms/frame, bare THREE.Points ${r.bareMs.toFixed(1)} ms/frame, ratio ${(r.galaxyMs / r.bareMs).toFixed(2)}×`,
      );
      console.log(
        `  GPU pick ${r.pickMs.toFixed(1)} ms · select 10% + upload + frame ${r.selectMs.toFixed(1)} ms · lasso ${r.lassoMs.toFixed(1)} ms round trip (${r.lassoWorkerMs.toFixed(1)} ms in the worker, ${r.lassoHits.toLocaleString('en')} hits)`,
      );
    }
  } finally {
    await browser.close();
    server?.close();
    rmSync(out, { recursive: true, force: true });
  }
  if (results.length !== sizes.length) throw new Error('the galaxy bench did not finish');
}

if (require.main === module) {
  const sizes = arg('--sizes')?.split(',').map(Number);
  const frames = arg('--frames');
  benchGalaxy({ sizes, frames: frames ? Number(frames) : undefined }).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
