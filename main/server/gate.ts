/**
 * Who may talk to the headless server. A page from another site that rebinds its name to
 * 127.0.0.1 still sends its own name as Host and Origin, so both are checked against the
 * names this server answers to; the token (sent in the first message) is checked after.
 */
import { isIP } from 'node:net';

const WILDCARD = new Set(['0.0.0.0', '::']);

/** `host:port` strings a request may name: loopback names, and the bound address. */
export function allowedHosts(bound: string, port: number): Set<string> {
  const names = ['127.0.0.1', 'localhost', '[::1]'];
  if (!WILDCARD.has(bound)) names.push(isIP(bound) === 6 ? `[${bound}]` : bound);
  const hosts = new Set(names.map((n) => `${n}:${port}`));
  // A wildcard bind answers to any name the machine has: the token is the gate there.
  if (WILDCARD.has(bound)) hosts.add('*');
  return hosts;
}

export function hostAllowed(hosts: ReadonlySet<string>, host: string | undefined): boolean {
  if (host === undefined) return false;
  return hosts.has('*') || hosts.has(host.toLowerCase());
}

/** A browser always sends Origin on a WebSocket: it must be this server's own page. */
export function originAllowed(
  hosts: ReadonlySet<string>,
  host: string | undefined,
  origin: string | undefined,
): boolean {
  if (origin === undefined) return true; // not a browser: the token decides
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  const originHost = parsed.host.toLowerCase();
  if (hosts.has('*')) return originHost === host?.toLowerCase();
  return hosts.has(originHost);
}

/** The token of a socket's first message, `{"type":"hello","token":"…"}`, or null. */
export function parseHello(data: Uint8Array): string | null {
  if (data.byteLength > 4096) return null;
  try {
    const m = JSON.parse(Buffer.from(data).toString('utf8')) as { type?: unknown; token?: unknown };
    return m?.type === 'hello' && typeof m.token === 'string' ? m.token : null;
  } catch {
    return null;
  }
}
