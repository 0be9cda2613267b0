/**
 * Bridge build time on synthetic SAEs: decoder cosine of every feature of A against every
 * feature of B, blockwise on the ORT Gemm (one thread), top-10 kept both ways, committed to a
 * real bridge file (main/bridge/match.ts), for 4k × 4k and 25k × 25k features of width 512.
 * Reports CPU seconds (process user + system) and wall seconds, with the load average: the
 * machine is shared, so wall time depends on it more than CPU time does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { runMatch } from '../main/bridge/match';
import { beginBridge, bridgeState, openBridge } from '../main/bridge/meta';
import { DecoderScorer } from '../main/bridge/scorers';
import { Gemm } from '../main/index/build/gemm';
import { mulberry32 } from '../main/index/build/rng';
import { fmt, line, median } from './stats';

const D = 512;

function decoder(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n * D);
  for (let i = 0; i < out.length; i++) out[i] = rand() - 0.5;
  return out;
}

async function once(gemm: Gemm, n: number, dir: string): Promise<{ cpu: number; wall: number }> {
  const file = path.join(dir, `bridge-${n}-${Math.random().toString(36).slice(2)}.sqlite`);
  const db = openBridge(file);
  try {
    beginBridge(
      db,
      {
        method: 'decoder',
        a: { pack: 'synthetic', sae: 'a', hook: 'h', dSae: n },
        b: { pack: 'synthetic', sae: 'b', hook: 'h', dSae: n },
        topK: 10,
        sharedAt: 0.5,
        unit: 'decoder direction',
        fingerprint: `bench-${n}`,
      },
      'match',
    );
    const a = decoder(n, 1);
    const b = decoder(n, 2);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await runMatch(db, new DecoderScorer(gemm, a, n, b, n, D));
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (bridgeState(db)?.stage !== 'done') throw new Error('the bridge did not finish');
    return { cpu: (c.user + c.system) / 1e6, wall };
  } finally {
    db.close();
    for (const ext of ['', '-wal', '-shm']) rmSync(`${file}${ext}`, { force: true });
  }
}

export async function benchBridge(): Promise<void> {
  console.log(`\n== bridge build (decoder cosine, width ${D}, top-10 both ways, 1 ORT thread)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'orrery-bridge-bench-'));
  const gemm = await Gemm.create(1);
  try {
    for (const [n, runs] of [
      [4096, 3],
      [25_000, 1],
    ] as const) {
      const load0 = loadavg()[0] ?? 0;
      const r: { cpu: number; wall: number }[] = [];
      for (let i = 0; i < runs; i++) r.push(await once(gemm, n, dir));
      const cpu = r.map((x) => x.cpu);
      const wall = r.map((x) => x.wall);
      const spread = runs > 1 ? ` (${fmt(Math.min(...cpu))}–${fmt(Math.max(...cpu))})` : '';
      line(
        `${n} × ${n} features: CPU seconds, median of ${runs}`,
        `${fmt(median(cpu))}${spread}`,
        `wall ${fmt(median(wall))} s; load average ${fmt(load0, 2)} → ${fmt(loadavg()[0] ?? 0, 2)} (1 min)`,
      );
    }
  } finally {
    await gemm.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
