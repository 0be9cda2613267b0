/** What e2e tests ask of the open page: an API call over its WebSocket, a galaxy test hook. */
import type { Page } from 'playwright-core';
import type { Result } from '../../preload/contract';

/** One API call through the page's own client (its socket, token and binary frames); throws when not ok. */
export async function apiCall<T>(page: Page, name: string, input: unknown): Promise<T> {
  type Hook = { __orreryCall: (n: string, i: unknown) => Promise<Result<unknown>> };
  await page.waitForFunction(
    () => typeof (globalThis as unknown as Partial<Hook>).__orreryCall === 'function',
  );
  // Typed arrays (pixels, map positions) come back as what they were.
  const text = await page.evaluate(
    async ({ name, input }) =>
      JSON.stringify(await (globalThis as unknown as Hook).__orreryCall(name, input), (_k, v) =>
        ArrayBuffer.isView(v)
          ? { $typed: v.constructor.name, data: Array.from(v as unknown as ArrayLike<number>) }
          : (v as unknown),
      ),
    { name, input },
  );
  const r = JSON.parse(text, (_k, v: unknown) => {
    const t = v as { $typed?: string; data?: number[] } | null;
    if (t && typeof t.$typed === 'string' && Array.isArray(t.data)) {
      const ctor = (globalThis as unknown as Record<string, { from(a: number[]): unknown }>)[
        t.$typed
      ];
      return ctor ? ctor.from(t.data) : t.data;
    }
    return v;
  }) as Result<unknown>;
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.error)}`);
  return r.value as T;
}

/** A raw socket conversation with the server, after the token: replies to each text sent, in order. */
export function rawSocket(page: Page, messages: string[]): Promise<unknown[]> {
  return page.evaluate(async (texts) => {
    const where = (globalThis as unknown as { location: { hash: string; host: string } }).location;
    const token = new URLSearchParams(where.hash.slice(1)).get('token') ?? '';
    const ws = new WebSocket(`ws://${where.host}/api`);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const send = (text: string) =>
      new Promise<unknown>((resolve) => {
        ws.onmessage = (e) => resolve(JSON.parse(String(e.data)));
        ws.send(text);
      });
    await send(JSON.stringify({ type: 'hello', token }));
    const out: unknown[] = [];
    for (const t of texts) out.push(await send(t));
    ws.close();
    return out;
  }, messages);
}

/**
 * Calls one of the page's read-only galaxy test hooks (window.__orreryGalaxy, or the bridge
 * view's second galaxy: __orreryBridgeGalaxy; the bridge view's own: __orreryBridge); null if
 * absent.
 */
export function galaxyHook<T>(
  page: Page,
  fn: string,
  hooks: '__orreryGalaxy' | '__orreryBridgeGalaxy' | '__orreryBridge' = '__orreryGalaxy',
): Promise<T> {
  return page.evaluate(
    ({ f, h }) => {
      const w = globalThis as unknown as Record<
        string,
        Record<string, (() => unknown) | undefined> | undefined
      >;
      return w[h]?.[f]?.() ?? null;
    },
    { f: fn, h: hooks },
  ) as Promise<T>;
}
