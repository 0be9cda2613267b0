/**
 * Issue 14's map figure: 1M map positions from the index file to the galaxy, against the
 * SQLite read of the same positions, in one run.
 *
 * The index: a real index file (the app's migrations) for the tiny text fixture's SAE whose
 * map holds 1,048,576 points (positions, feature numbers, density and cluster: the four blobs
 * index.map reads, 24 MiB). The read: `loadPositions` on that file in this process (what the
 * server's reader thread runs). index.map sends them compact (preload/contract/mapWire.ts:
 * 16-bit positions, 16-bit log densities, no ids when point i is feature i, 8-bit clusters; ~9 MiB)
 * in a frame written in pieces. The trip: the real headless server and Debian's chromium;
 * each sample loads the page, whose galaxy asks index.map, and reads the page's own marks
 * (renderer/src/galaxy/mapData.ts MAP_MARKS): request sent → reply in the page (reader thread,
 * binary frame, HTTP response body: preload/contract/httpCalls.ts, frame read) → decodeMap done
 * (what the galaxy's star buffers are made from: the 16-bit positions as they came, which the
 * GPU scales by the box, densities, clusters, the feature lookup and bounds; the float positions
 * for picking and the lasso are decoded later, in the lasso worker), once while the page loads
 * (the app starting meanwhile) and once in an idle page with the galaxy drawn (its test hook
 * runs the same fetch and decode again), there alternating with the same call over the API
 * socket (the transport the HTTP door replaced). The same call from a node client over the
 * socket splits the server's part from the browser's.
 * Median of 7 with spread; load average printed; the server's peak RSS (VmHWM) and the page's
 * JS heap after the runs.
 *
 *   npx tsx bench/mapTransfer.ts [--n 1048576] [--samples 7]
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeMapArrays, encodeMessageParts } from '../preload/contract';
import { loadPositions, openIndex } from '../main/index';
import { Conn } from '../tests/reliability/support/server';
import { launchChromium } from '../tests/support/browser';
import { startHeadless } from '../tests/support/headless';
import {
  MAP_PACK_ID as PACK_ID,
  MAP_SAE_ID as SAE_ID,
  writeMapIndex,
} from '../tests/support/mapIndex';
import { fmt, line, loadLine, median, peakRss, percentile } from './stats';

const root = path.resolve(__dirname, '..');
const fixture = path.join(root, 'tests', 'fixtures', 'packs', 'text-tiny');

interface PageSample {
  /** request sent → reply decoded from its frame in the page */
  reply: number;
  /** reply → decodeMap done */
  decode: number;
  /** request sent → decodeMap done */
  total: number;
  count: number;
}

/** In the page: waits for the galaxy's decoded mark and reads the three marks. */
const readMarks = `new Promise((resolve) => {
  const look = () => {
    const get = (n) => performance.getEntriesByName(n, 'mark').at(-1);
    const req = get('orrery:map-request');
    const rep = get('orrery:map-reply');
    const dec = get('orrery:map-decoded');
    if (req && rep && dec) {
      resolve({ reply: rep.startTime - req.startTime, decode: dec.startTime - rep.startTime,
        total: dec.startTime - req.startTime, count: dec.detail.count });
    } else setTimeout(look, 50);
  };
  look();
})`;

/**
 * In the page: the same index.map call over the API socket (what the page used before the HTTP
 * door), request sent → the reply's bytes in the page (not decoded). A function, not a string
 * (the page's CSP refuses eval).
 */
function overSocket(a: { token: string; input: unknown }): Promise<number> {
  // (in the page: the bench's own types know no DOM)
  interface PageSocket {
    binaryType: string;
    onopen: () => void;
    onerror: () => void;
    onmessage: (e: { data: unknown }) => void;
    send(data: string): void;
    close(): void;
  }
  const page = globalThis as unknown as {
    location: { host: string };
    WebSocket: new (url: string) => PageSocket;
  };
  return new Promise((resolve, reject) => {
    const ws = new page.WebSocket(`ws://${page.location.host}/api`);
    ws.binaryType = 'arraybuffer';
    let t0 = 0;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: a.token }));
    ws.onerror = () => reject(new Error('socket error'));
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') {
        if (e.data.includes('"welcome"')) {
          t0 = performance.now();
          ws.send(JSON.stringify({ type: 'call', id: 1, call: 'index.map', input: a.input }));
        } else if (e.data.startsWith('{"type":"reply"')) reject(new Error(e.data.slice(0, 200)));
        return; // events go to every socket: not ours
      }
      // A binary frame: ours when its header's message is a reply (events may be frames too).
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      const head = new TextDecoder().decode(bytes.subarray(8, 40));
      if (!head.startsWith('{"m":{"type":"reply"')) return;
      const ms = performance.now() - t0;
      ws.close();
      resolve(ms);
    };
  });
}

function spread(xs: number[]): string {
  return `p25–p75 ${fmt(percentile(xs, 25), 1)}–${fmt(percentile(xs, 75), 1)}, min ${fmt(Math.min(...xs), 1)}, max ${fmt(Math.max(...xs), 1)}`;
}

export async function benchMapTransfer(o: { n?: number; samples?: number } = {}): Promise<void> {
  const n = o.n ?? 1 << 20;
  const samples = o.samples ?? 7;
  console.log(`\n== ${n.toLocaleString('en-US')} map positions to the galaxy (issue 14)`);
  if (!existsSync(path.join(root, 'out', 'main', 'server.js'))) {
    console.log('   skipped: run npm run build first (the bench drives the built app)');
    return;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-map-'));
  try {
    const models = path.join(tmp, 'models');
    const home = path.join(tmp, 'home');
    cpSync(fixture, path.join(models, 'text-tiny'), { recursive: true });
    const file = writeMapIndex(home, n);

    // The SQLite read, as the reader thread does it (a warm read-only connection).
    const db = openIndex(file, { readonly: true });
    const reads: number[] = [];
    const compacts: number[] = [];
    const encodes: number[] = [];
    let bytes = 0;
    try {
      for (let i = 0; i <= samples; i++) {
        const t0 = performance.now();
        const p = loadPositions(db, SAE_ID);
        const t1 = performance.now();
        if (p?.count !== n) throw new Error('the positions did not load');
        // The reader thread's part: the arrays made compact (16-bit positions, no identity ids).
        const map = encodeMapArrays({
          count: n,
          features: p.idx,
          positions: p.xyz,
          density: p.density,
          cluster: p.cluster,
        });
        const t2 = performance.now();
        // The API thread's part: the reply as the pieces of one binary frame (not joined).
        const wire = encodeMessageParts({
          type: 'reply',
          id: 1,
          result: { ok: true, value: { ...map, clusters: [] } },
        });
        const t3 = performance.now();
        if (i === 0) continue; // the first read warms the page cache and the statement
        reads.push(t1 - t0);
        compacts.push(t2 - t1);
        encodes.push(t3 - t2);
        bytes =
          typeof wire === 'string' ? wire.length : wire.reduce((s, part) => s + part.byteLength, 0);
      }
    } finally {
      db.close();
    }

    const server = await startHeadless(['--home', home, '--models', models]);
    const browser = await launchChromium();
    const node: number[] = [];
    let serverPeak: number | null = null;
    let pageHeap: number | null = null;
    const cold: PageSample[] = [];
    const warm: PageSample[] = [];
    const socketMs: number[] = [];
    const check = (s: PageSample): PageSample => {
      if (s.count !== n) throw new Error(`the page decoded ${s.count} points, not ${n}`);
      return s;
    };
    try {
      // The same call from a node client over the same WebSocket (no browser): the server's part.
      const url = new URL(server.url);
      const conn = await Conn.authed(
        Number(url.port),
        new URLSearchParams(url.hash.slice(1)).get('token') ?? '',
      );
      for (let i = 0; i <= samples; i++) {
        const t0 = performance.now();
        const r = await conn.call('index.map', { packId: PACK_ID, saeId: SAE_ID });
        if (!r.ok || (r.value as { count: number }).count !== n)
          throw new Error('index.map failed');
        if (i > 0) node.push(performance.now() - t0);
      }
      conn.close();
      const tab = await browser.newPage();
      await tab.setViewportSize({ width: 1280, height: 720 });
      // Cold: the page loads and its galaxy asks for the map while the app starts.
      await tab.goto(server.url);
      for (let i = 0; i <= samples; i++) {
        if (i > 0) await tab.reload();
        const s = check((await tab.evaluate(readMarks)) as PageSample);
        if (i > 0) cold.push(s); // the first load warms the server's reader and chromium
      }
      // Warm: the galaxy is drawn and the page idle; the galaxy's own fetch and decode again.
      // A function, not a string: the page's CSP refuses eval.
      await tab.waitForFunction(
        () =>
          (
            globalThis as unknown as { __orreryGalaxy?: { ready(): boolean } }
          ).__orreryGalaxy?.ready() === true,
        undefined,
        { timeout: 600_000, polling: 250 },
      );
      for (let i = 0; i <= samples; i++) {
        await tab.evaluate('performance.clearMarks()');
        await tab.evaluate('window.__orreryGalaxy.refetchMap()');
        const s = check((await tab.evaluate(readMarks)) as PageSample);
        if (i > 0) warm.push(s);
        // Alternating, the same reply over the API socket (the transport it replaced).
        const sock = await tab.evaluate(overSocket, {
          token: new URLSearchParams(new URL(server.url).hash.slice(1)).get('token') ?? '',
          input: { packId: PACK_ID, saeId: SAE_ID },
        });
        if (i > 0) socketMs.push(sock);
      }
      // Memory after the runs: the server's peak RSS (Linux VmHWM) and the page's JS heap.
      serverPeak = peakRss(server.pid);
      pageHeap = (await tab.evaluate(
        '(performance.memory && performance.memory.usedJSHeapSize) || null',
      )) as number | null;
    } finally {
      await browser.close();
      await server.stop();
    }

    const read = median(reads);
    loadLine();
    line(
      'SQLite read of the map (ms, median)',
      fmt(read, 1),
      `${spread(reads)}; n=${reads.length}`,
    );
    line(
      'arrays made compact, reader thread (ms, median)',
      fmt(median(compacts), 1),
      spread(compacts),
    );
    line(
      'reply as binary frame pieces, API thread (ms, median)',
      fmt(median(encodes), 1),
      `${(bytes / 2 ** 20).toFixed(1)} MiB frame (${(n * 24) / 2 ** 20} MiB stored)`,
    );
    const show = (what: string, xs: PageSample[]): number => {
      const part = (k: 'reply' | 'decode' | 'total'): number[] => xs.map((s) => s[k]);
      line(
        `${what}: request → reply in the page (ms)`,
        fmt(median(part('reply')), 1),
        spread(part('reply')),
      );
      line(
        `${what}: reply → decodeMap done (ms)`,
        fmt(median(part('decode')), 1),
        spread(part('decode')),
      );
      line(
        `${what}: request → positions decoded (ms)`,
        fmt(median(part('total')), 1),
        `${spread(part('total'))}; n=${xs.length}`,
      );
      return median(part('total'));
    };
    line(
      'node client: request → reply decoded (ms)',
      fmt(median(node), 1),
      `${spread(node)}; same server and socket, no browser`,
    );
    const coldMs = show('page loading', cold);
    const warmMs = show('page idle', warm);
    line(
      'page idle: the same reply over the API socket (ms)',
      fmt(median(socketMs), 1),
      `${spread(socketMs)}; request → bytes in the page, not decoded; alternating with the above`,
    );
    const mib = (b: number | null): string => (b === null ? 'n/a' : (b / 2 ** 20).toFixed(0));
    line(
      'memory (MiB): server peak RSS · page JS heap',
      `${mib(serverPeak)} · ${mib(pageHeap)}`,
      "VmHWM of the server process; the page's usedJSHeapSize after the runs",
    );
    line(
      'page idle: in the galaxy vs SQLite read (median)',
      `${fmt(warmMs / read, 2)}×`,
      'goal ≤ 2×',
    );
    line(
      'page loading: in the galaxy vs SQLite read (median)',
      `${fmt(coldMs / read, 2)}×`,
      'the app starting meanwhile',
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function arg(flag: string): number | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1]?.replace(/\\/g, '/').endsWith('bench/mapTransfer.ts')) {
  benchMapTransfer({ n: arg('--n'), samples: arg('--samples') }).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
