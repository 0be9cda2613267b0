/**
 * The desktop app's door for the map (issue 14): the real Electron main entry, `electron`
 * mocked, asked index.map through its IPC handler as the preload asks it. The reply carries the
 * wire's typed arrays (16-bit positions and all) as they are; after a structured clone (what
 * Electron's IPC does to it) the page decodes the same map the headless page decodes from the
 * HTTP door's frame, and draws the same 16-bit positions.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  decodeFrame,
  encodeMessage,
  type CallOutput,
  type Result,
} from '../../../preload/contract';
import { decodeMap } from '../../../renderer/src/galaxy/mapData';
import { modelsWith } from '../../support/composed';
import { electronCalls as h } from '../../support/electronMock';
import { MAP_PACK_ID, MAP_SAE_ID, writeMapIndex } from '../../support/mapIndex';
import { cleanupTmp } from '../../support/tmp';

vi.mock('electron', () => import('../../support/electronMock').then((m) => m.electronModule));

const N = 3000;
const before = process.env.ORRERY_MODELS;

beforeAll(async () => {
  delete process.env.ELECTRON_RENDERER_URL;
  h.userData = mkdtempSync(path.join(os.tmpdir(), 'orrery-electron-map-'));
  writeMapIndex(path.join(h.userData, 'orrery'), N);
  process.env.ORRERY_MODELS = modelsWith(['text-tiny']);
  await import('../../../main/electron/main');
  await vi.waitFor(() => expect(h.loadedUrl).not.toBe(''));
});

afterAll(() => {
  if (before === undefined) delete process.env.ORRERY_MODELS;
  else process.env.ORRERY_MODELS = before;
  cleanupTmp();
});

describe('the map over Electron IPC', () => {
  it('answers index.map with the wire’s typed arrays; cloned, they decode to the HTTP door’s map', async () => {
    const handle = h.ipcHandlers.get('orrery:call');
    expect(handle).toBeDefined();
    const input = { packId: MAP_PACK_ID, saeId: MAP_SAE_ID };
    const r = (await handle?.({ senderFrame: { url: h.loadedUrl } }, 'index.map', input)) as Result<
      CallOutput<'index.map'>
    >;
    if (!r.ok) throw new Error(r.error.message);
    // The reader thread shares the map's arrays with the API thread (mapRead.ts); Electron's IPC
    // cannot send shared memory to the page's process, so the handler's reply holds none.
    for (const a of [r.value.positions, r.value.density, r.value.cluster])
      expect(a.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    // What reaches the page: a structured clone (Electron's IPC), typed arrays kept as such.
    const ipc = structuredClone(r.value);
    expect(ipc.positions).toBeInstanceOf(Uint16Array);
    expect(ipc.positions.length).toBe(N * 3);
    // The headless page's map: the same reply through the frame the HTTP door sends.
    const frame = decodeFrame(encodeMessage(r.value) as Uint8Array) as CallOutput<'index.map'>;
    const a = decodeMap(ipc);
    const b = decodeMap(frame);
    expect(Array.from(a.quantised?.levels ?? [])).toEqual(Array.from(b.quantised?.levels ?? []));
    expect(a.quantised?.box).toEqual(b.quantised?.box);
    expect(a.bounds).toEqual(b.bounds);
    expect(Array.from(a.density)).toEqual(Array.from(b.density));
    expect(Array.from(a.cluster)).toEqual(Array.from(b.cluster));
    expect(a.count).toBe(N);
  });
});
