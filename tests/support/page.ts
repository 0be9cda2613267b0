/** What e2e tests ask of the open page: an API call over its WebSocket, a galaxy test hook. */
import type { Page } from 'playwright-core';

/** One API call over the page's own WebSocket endpoint; throws with the error when not ok. */
export async function apiCall<T>(page: Page, name: string, input: unknown): Promise<T> {
  const r = await page.evaluate(
    async ({ host, name, input }) => {
      const ws = new WebSocket(`ws://${host}/api`);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      const reply = await new Promise<string>((resolve) => {
        ws.onmessage = (e) => resolve(String(e.data));
        ws.send(JSON.stringify({ type: 'call', id: 1, call: name, input }));
      });
      ws.close();
      return JSON.parse(reply) as { result: { ok: boolean; value?: unknown; error?: unknown } };
    },
    { host: new URL(page.url()).host, name, input },
  );
  if (!r.result.ok) throw new Error(`${name}: ${JSON.stringify(r.result.error)}`);
  return r.result.value as T;
}

/** Calls one of the page's read-only galaxy test hooks (window.__orreryGalaxy); null if absent. */
export function galaxyHook<T>(page: Page, fn: string): Promise<T> {
  return page.evaluate((f) => {
    const w = globalThis as unknown as {
      __orreryGalaxy?: Record<string, (() => unknown) | undefined>;
    };
    return w.__orreryGalaxy?.[f]?.() ?? null;
  }, fn) as Promise<T>;
}
