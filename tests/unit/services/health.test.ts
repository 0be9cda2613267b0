import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { HealthService } from '../../../main/services/healthService';

const require = createRequire(import.meta.url);

describe('health', () => {
  it('runs a real tiny inference and a real SQLite probe', async () => {
    const h = await new HealthService({ version: '1.2.3', mode: 'headless' }).health();
    const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
    expect(h.onnx).toMatchObject({ ok: true, version: ortVersion, error: null });
    // relu([1,2,3]·W + b) with W = [[0.5,-1],[2,0.25],[-0.75,1.5]], b = [0.1,-0.2] gives [2.35, 3.8]
    expect(h.onnx.check.got[0]).toBeCloseTo(2.35, 5);
    expect(h.onnx.check.got[1]).toBeCloseTo(3.8, 5);
    expect(h.sqlite).toMatchObject({ ok: true, fts5: true, journalMode: 'wal', error: null });
    expect(h.sqlite.version).toMatch(/^3\.\d+\.\d+$/);
    expect(h.app).toEqual({ version: '1.2.3', mode: 'headless' });
  });
});
