/** The preload exposes exactly the bridge, on the one allow-listed channel prefix. */
import { describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoked: [] as unknown[][],
  listeners: new Map<string, (...a: unknown[]) => void>(),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => h.exposed.set(key, value) },
  webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` },
  ipcRenderer: {
    invoke: (...args: unknown[]) => {
      h.invoked.push(args);
      return Promise.resolve({ ok: true, value: 'pong' });
    },
    on: (channel: string, fn: (...a: unknown[]) => void) => h.listeners.set(channel, fn),
    removeListener: (channel: string) => h.listeners.delete(channel),
  },
}));

describe('preload', () => {
  it('exposes window.orrery with call, onEvent and pathForFile only', async () => {
    await import('../../../preload/index');
    expect([...h.exposed.keys()]).toEqual(['orrery']);
    const bridge = h.exposed.get('orrery') as Record<string, (...a: unknown[]) => unknown>;
    expect(Object.keys(bridge).sort()).toEqual(['call', 'onEvent', 'pathForFile']);
    expect(bridge.pathForFile?.({ name: 'sae-folder' })).toBe('/dropped/sae-folder');
    expect(await bridge.call?.('app.health', {})).toEqual({ ok: true, value: 'pong' });
    expect(h.invoked).toEqual([['orrery:call', 'app.health', {}]]);
    const got: unknown[] = [];
    const off = bridge.onEvent?.((m: unknown) => got.push(m)) as () => void;
    h.listeners.get('orrery:event')?.({}, { type: 'event', event: 'job.progress', payload: {} });
    expect(got).toHaveLength(1);
    off();
    expect(h.listeners.has('orrery:event')).toBe(false);
    for (const [channel] of h.invoked) expect(String(channel).startsWith('orrery:')).toBe(true);
  });
});
