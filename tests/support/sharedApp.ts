/**
 * One app a whole e2e file shares: opened before its tests (openApp), closed after them. The
 * page it returns stands for the app's page from then on, so a file reads `page.…` as if it
 * held the page itself, and `call` is an API call from that page (apiCall).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { openApp, type OpenApp } from './app';
import { apiCall } from './page';

export interface SharedApp {
  page: Page;
  call<T>(name: string, input: unknown): Promise<T>;
}

export function sharedApp(packs: readonly string[] = []): SharedApp {
  let app: OpenApp | null = null;
  const open = (): Page => {
    if (!app) throw new Error('the app is opened in beforeAll: use the page inside a test');
    return app.page;
  };
  beforeAll(async () => {
    app = await openApp(packs);
  });
  afterAll(async () => {
    await app?.close();
  });
  const page = new Proxy({} as Page, {
    get(_, key) {
      const p = open();
      const v = Reflect.get(p, key, p) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(p) : v;
    },
  });
  return { page, call: <T>(name: string, input: unknown) => apiCall<T>(open(), name, input) };
}
