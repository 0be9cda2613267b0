/**
 * The real server for the reliability suite: a child process (serverChild.ts, run from sources
 * through tsx) on a free port, and a small WebSocket client that says the token first, as the
 * page does, and waits for each reply or the socket's close, with a generous bound (a reply
 * that takes longer counts as a hang; nothing here depends on speed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { decodeFrame, encodeMessage, type Reply } from '../../../preload/contract';
import { fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

export const TOKEN = 'reliability-token-0123456789abcdef';
/** A reply later than this is a hang. */
export const HANG_MS = 30_000;

export interface ServerChild {
  port: number;
  url: string;
  child: ChildProcess;
  home: string;
  models: string;
  alive(): boolean;
  output(): string;
  stop(): Promise<number | null>;
}

/** A models folder with the three tiny fixture packs. */
export function fixtureModels(): string {
  const models = tmpDir('orrery-rel-models-');
  for (const p of ['text-tiny', 'emoji-tiny', 'glyphs-tiny'])
    cpSync(path.join(fixturePacks, p), path.join(models, p), { recursive: true });
  return models;
}

export const serverChildFile = path.join(repoRoot, 'tests/reliability/support/serverChild.ts');

/** Runs serverChild.ts with these arguments; resolves with its exit code and output. */
export function runChild(
  args: readonly string[],
): Promise<{ code: number | null; output: string; url: string | null; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverChildFile, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => /^http:\/\/\S+$/.test(l.trim()));
      if (line) resolve({ code: null, output, url: line.trim(), child });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => resolve({ code, output, url: null, child }));
  });
}

export interface StartOptions {
  home?: string;
  models?: string;
  /** --allow folders (default: the suite's temp folder's parent, i.e. os.tmpdir()). */
  allow?: readonly string[];
  extra?: readonly string[];
}

export async function startServerChild(o: StartOptions = {}): Promise<ServerChild> {
  const home = o.home ?? tmpDir('orrery-rel-home-');
  mkdirSync(home, { recursive: true });
  const models = o.models ?? fixtureModels();
  const allow = (o.allow ?? [path.dirname(home)]).flatMap((d) => ['--allow', d]);
  const args = ['--port', '0', '--token', TOKEN, '--home', home, '--models', models, ...allow];
  const started = await runChild([...args, ...(o.extra ?? [])]);
  if (started.url === null)
    throw new Error(`the server did not start (exit ${started.code}):\n${started.output}`);
  const { child } = started;
  let output = started.output;
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const port = Number(new URL(started.url).port);
  return {
    port,
    url: started.url,
    child,
    home,
    models,
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
        child.once('exit', (code) => done(code));
        child.kill('SIGTERM');
      }),
  };
}

export type Outcome =
  { kind: 'reply'; reply: Reply } | { kind: 'close'; code: number } | { kind: 'hang' };

/** A socket to the server's API that keeps replies in order and knows when it closed. */
export class Conn {
  private readonly replies: Reply[] = [];
  private waiter: (() => void) | null = null;
  closeCode: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const m = (isBinary ? decodeFrame(buf) : JSON.parse(buf.toString('utf8'))) as {
        type?: string;
      };
      if (m.type === 'reply' || m.type === 'welcome') this.replies.push(m as Reply);
      this.waiter?.();
    });
    ws.on('close', (code: number) => {
      this.closeCode = code;
      this.waiter?.();
    });
    ws.on('error', () => undefined);
  }

  /** Opens a socket; rejects with "HTTP <status>" when the upgrade is refused. */
  static open(port: number, headers: Record<string, string> = {}, query = ''): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api${query}`, { headers });
      ws.once('open', () => resolve(new Conn(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** A socket that has said the token. */
  static async authed(port: number, token = TOKEN): Promise<Conn> {
    const c = await Conn.open(port);
    const r = await c.exchange(JSON.stringify({ type: 'hello', token }));
    if (r.kind !== 'reply' || (r.reply as { type: string }).type !== 'welcome')
      throw new Error(`no welcome: ${JSON.stringify(r)}`);
    return c;
  }

  get open(): boolean {
    return this.closeCode === null && this.ws.readyState === WebSocket.OPEN;
  }

  /** The next reply (events skipped), the close, or a hang after `ms`. */
  next(ms = HANG_MS): Promise<Outcome> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const r = this.replies.shift();
        if (r) {
          resolve({ kind: 'reply', reply: r });
          return true;
        }
        if (this.closeCode !== null) {
          resolve({ kind: 'close', code: this.closeCode });
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve({ kind: 'hang' });
      }, ms);
      this.waiter = () => {
        if (check()) {
          clearTimeout(timer);
          this.waiter = null;
        }
      };
    });
  }

  send(data: string | Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(data, { binary: typeof data !== 'string' });
  }

  async exchange(data: string | Uint8Array, ms = HANG_MS): Promise<Outcome> {
    this.send(data);
    return this.next(ms);
  }

  private nextId = 1;
  /** A well-formed call; the reply's result. Throws on a close or a hang. */
  async call(call: string, input: unknown): Promise<Reply['result']> {
    const id = this.nextId++;
    const r = await this.exchange(encodeMessage({ type: 'call', id, call, input }));
    if (r.kind !== 'reply')
      throw new Error(`${call}: ${r.kind === 'close' ? `closed ${r.code}` : 'hang'}`);
    return r.reply.result;
  }

  close(): void {
    this.ws.close();
  }
}
