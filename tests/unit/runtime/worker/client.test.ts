import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeWorker } from '../../../../main/runtime/worker/client';

const entry = { file: path.join(__dirname, 'fakeHost.ts'), tsx: true };
const workers: RuntimeWorker[] = [];

function worker(): RuntimeWorker {
  const w = new RuntimeWorker(entry);
  workers.push(w);
  return w;
}

afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
});

describe('inference worker client', () => {
  it('routes streamed tokens and the final value to the right request', async () => {
    const w = worker();
    const tokens: string[] = [];
    const [a, b] = await Promise.all([
      w.request('/a', 'text.generate', { steps: 3 }, { onToken: (t) => tokens.push(`a${t.text}`) }),
      w.request('/b', 'text.generate', { steps: 2 }, { onToken: (t) => tokens.push(`b${t.text}`) }),
    ]);
    expect(a).toEqual({ packDir: '/a', steps: 3 });
    expect(b).toEqual({ packDir: '/b', steps: 2 });
    expect(tokens.filter((t) => t.startsWith('a'))).toEqual(['at0', 'at1', 'at2']);
    expect(tokens.filter((t) => t.startsWith('b'))).toEqual(['bt0', 'bt1']);
  });

  it('cancels on the caller’s signal', async () => {
    const w = worker();
    const c = new AbortController();
    const p = w.request(
      '/a',
      'text.generate',
      { steps: 1000, ms: 5 },
      { onToken: (t) => t.index === 3 && c.abort(), signal: c.signal },
    );
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('keeps only the newest request of a lane', async () => {
    const w = worker();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        w.request('/a', 'text.generate', { steps: 20, ms: 2, n: i }, { lane: 'dial' }),
      ),
    );
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    expect(fulfilled).toHaveLength(1);
    expect(results.at(-1)?.status).toBe('fulfilled');
    for (const r of results.slice(0, -1))
      expect(r).toMatchObject({ status: 'rejected', reason: { code: 'cancelled' } });
  });

  it('fails requests in flight when the worker dies, and restarts it', async () => {
    const w = worker();
    const slow = w.request('/a', 'text.generate', { steps: 1000, ms: 5 });
    const crash = w.request('/a', 'open', { crash: true });
    await expect(slow).rejects.toMatchObject({ code: 'unavailable' });
    await expect(crash).rejects.toMatchObject({ code: 'unavailable' });
    await expect(w.request('/a', 'text.generate', { steps: 1 })).resolves.toEqual({
      packDir: '/a',
      steps: 1,
    });
  });
});
