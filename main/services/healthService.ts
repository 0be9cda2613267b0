/**
 * Runtime health, measured for real: a tiny ONNX graph built in code is run through
 * onnxruntime-node and its output checked against the same arithmetic done here; a SQLite
 * file database is opened in WAL mode and FTS5 is exercised.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Health } from '../../preload/contract';
import { probeSqlite } from '../db/connection';
import { OnnxSession, onnxBackends, onnxVersion } from '../runtime/onnx';
import { buildModel } from '../runtime/onnxGraph';

/** y = relu(x·W + b) for x [1,3], W [3,2]: small enough to check by hand. */
const W = [0.5, -1, 2, 0.25, -0.75, 1.5];
const B = [0.1, -0.2];
const X = [1, 2, 3];

export function tinyModel(): Uint8Array {
  return buildModel({
    name: 'orrery-health',
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
    initializers: [
      { name: 'W', dims: [3, 2], values: W },
      { name: 'b', dims: [2], values: B },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['pre'] },
      { op: 'Relu', inputs: ['pre'], outputs: ['y'] },
    ],
  });
}

function expected(): number[] {
  return [0, 1].map((j) =>
    Math.max(0, X.reduce((s, x, i) => s + x * (W[i * 2 + j] ?? 0), 0) + (B[j] ?? 0)),
  );
}

export class HealthService {
  constructor(
    private readonly appInfo: { version: string; mode: 'desktop' | 'headless' },
    private readonly scratchDir: string = os.tmpdir(),
  ) {}

  async onnx(): Promise<Health['onnx']> {
    const want = expected();
    const t0 = performance.now();
    try {
      const session = await OnnxSession.create(tinyModel());
      const out = await session.run({ x: { dims: [1, 3], data: Float32Array.from(X) } });
      await session.release();
      const got = Array.from(out.y?.data ?? [], Number);
      const okValues =
        got.length === want.length && got.every((g, i) => Math.abs(g - (want[i] ?? NaN)) < 1e-5);
      return {
        ok: okValues,
        version: onnxVersion(),
        backends: onnxBackends(),
        check: { got, want, ms: performance.now() - t0 },
        error: okValues ? null : 'the tiny model gave a different answer than expected',
      };
    } catch (e) {
      return {
        ok: false,
        version: onnxVersion(),
        backends: [],
        check: { got: [], want, ms: performance.now() - t0 },
        error: (e as Error).message,
      };
    }
  }

  async sqlite(): Promise<Health['sqlite']> {
    const dir = await fs.mkdtemp(path.join(this.scratchDir, 'orrery-health-'));
    try {
      const facts = probeSqlite(path.join(dir, 'probe.sqlite'));
      const ok = facts.fts5 && facts.journalMode === 'wal' && facts.integrity === 'ok';
      return {
        ok,
        version: facts.version,
        fts5: facts.fts5,
        journalMode: facts.journalMode,
        error: ok
          ? null
          : `integrity ${facts.integrity}, journal ${facts.journalMode}, fts5 ${facts.fts5}`,
      };
    } catch (e) {
      return {
        ok: false,
        version: 'unknown',
        fts5: false,
        journalMode: 'unknown',
        error: (e as Error).message,
      };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  async health(): Promise<Health> {
    return {
      app: this.appInfo,
      onnx: await this.onnx(),
      sqlite: await this.sqlite(),
      node: { version: process.versions.node, platform: process.platform, arch: process.arch },
    };
  }
}
