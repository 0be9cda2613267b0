/**
 * Part 4: who may talk to the served API. A matrix of Host, Origin and token (DNS rebinding,
 * other origins, null Origin, no token, wrong token, a token in the query string, the right
 * token) against the real server in a child process, and the command-line arguments that must
 * stop it from starting (short or spaced tokens, --host not an address, a wildcard bind without
 * a token). Everything is refused except the right combination.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTmp, tmpDir } from '../support/tmp';
import { clip, recordPart } from './support/figures';
import { Conn, runChild, startServerChild, TOKEN, type ServerChild } from './support/server';

let server: ServerChild;
const rows: string[][] = [];

beforeAll(async () => {
  server = await startServerChild();
});

afterAll(async () => {
  await server?.stop();
  const refused = rows.filter(
    (r) => r[1] === 'refused' && (r[2] ?? '').startsWith('refused'),
  ).length;
  const accepted = rows.filter(
    (r) => r[1] === 'accepted' && (r[2] ?? '').startsWith('accepted'),
  ).length;
  const wrong = rows.filter((r) => !(r[2] ?? '').startsWith(r[1] ?? '')).length;
  recordPart({
    part: '4 gate',
    order: 4,
    figures: [
      { label: 'Host/Origin/token/argument cases', value: rows.length },
      {
        label: 'hostile cases refused',
        value: refused,
        goal: `${rows.filter((r) => r[1] === 'refused').length}`,
      },
      {
        label: 'right combinations accepted',
        value: accepted,
        goal: `${rows.filter((r) => r[1] === 'accepted').length}`,
      },
      { label: 'cases not as expected', value: wrong, goal: '0' },
    ],
    tables: [{ title: 'Host / Origin / token matrix', header: ['case', 'expected', 'got'], rows }],
  });
  cleanupTmp();
});

/** Opens a socket with these headers and says `hello` (or sends `first`); what came of it. */
async function attempt(
  headers: Record<string, string>,
  first: string | Uint8Array | null,
  query = '',
): Promise<string> {
  let c: Conn;
  try {
    c = await Conn.open(server.port, headers, query);
  } catch (e) {
    return `refused at upgrade (${(e as Error).message})`;
  }
  try {
    const r = first === null ? await c.next(20_000) : await c.exchange(first, 20_000);
    if (r.kind === 'close') return `refused (closed ${r.code})`;
    if (r.kind === 'hang') return 'accepted?? (no answer)';
    const reply = r.reply as { type: string; result?: { ok: boolean; error?: { code: string } } };
    if (reply.type === 'welcome') {
      // A welcome must mean calls work.
      const h = await c.call('packs.list', {});
      return h.ok
        ? 'accepted (welcome, calls answered)'
        : `accepted?? (welcome, then ${JSON.stringify(h)})`;
    }
    if (reply.result?.ok === false) {
      const code = reply.result.error?.code ?? '?';
      const closed = await c.next(20_000);
      return `refused (${code}${closed.kind === 'close' ? `, closed ${closed.code}` : ''})`;
    }
    return `accepted?? (${clip(JSON.stringify(reply), 80)})`;
  } finally {
    c.close();
  }
}

const hello = (token: string): string => JSON.stringify({ type: 'hello', token });
const firstCall = JSON.stringify({ type: 'call', id: 1, call: 'packs.list', input: {} });

function rawGet(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path: '/', headers: { Host: host } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('part 4: Host / Origin / token', () => {
  it('refuses every hostile combination and accepts only the right one', async () => {
    const p = server.port;
    const own = `http://127.0.0.1:${p}`;
    const cases: [string, 'refused' | 'accepted', () => Promise<string>][] = [
      [
        'DNS rebinding: Host evil.example:port, Origin evil.example',
        'refused',
        () =>
          attempt({ Host: `evil.example:${p}`, Origin: `http://evil.example:${p}` }, hello(TOKEN)),
      ],
      [
        'DNS rebinding, no Origin: Host evil.example:port',
        'refused',
        () => attempt({ Host: `evil.example:${p}` }, hello(TOKEN)),
      ],
      [
        'Host 127.0.0.1 on another port',
        'refused',
        () => attempt({ Host: `127.0.0.1:${p + 1}` }, hello(TOKEN)),
      ],
      [
        'Origin http://evil.example, right token',
        'refused',
        () => attempt({ Origin: 'http://evil.example' }, hello(TOKEN)),
      ],
      ['Origin null, right token', 'refused', () => attempt({ Origin: 'null' }, hello(TOKEN))],
      [
        'Origin file://, right token',
        'refused',
        () => attempt({ Origin: 'file://' }, hello(TOKEN)),
      ],
      [
        'Origin 127.0.0.1.evil.example, right token',
        'refused',
        () => attempt({ Origin: `http://127.0.0.1.evil.example:${p}` }, hello(TOKEN)),
      ],
      ['own Origin, no token (a call first)', 'refused', () => attempt({ Origin: own }, firstCall)],
      ['own Origin, wrong token', 'refused', () => attempt({ Origin: own }, hello('x'.repeat(34)))],
      ['own Origin, empty token', 'refused', () => attempt({ Origin: own }, hello(''))],
      [
        'own Origin, token minus its last character',
        'refused',
        () => attempt({ Origin: own }, hello(TOKEN.slice(0, -1))),
      ],
      [
        'own Origin, token in upper case',
        'refused',
        () => attempt({ Origin: own }, hello(TOKEN.toUpperCase())),
      ],
      [
        'own Origin, token with a trailing space',
        'refused',
        () => attempt({ Origin: own }, hello(`${TOKEN} `)),
      ],
      [
        'own Origin, token as a number',
        'refused',
        () => attempt({ Origin: own }, JSON.stringify({ type: 'hello', token: 1234567890123456 })),
      ],
      [
        'token in the query string only',
        'refused',
        () => attempt({ Origin: own }, firstCall, `?token=${TOKEN}`),
      ],
      [
        'token in a binary first message',
        'refused',
        () => attempt({ Origin: own }, new Uint8Array(Buffer.from(hello(TOKEN)))),
      ],
      ['nothing said within the hello time', 'refused', () => attempt({ Origin: own }, null)],
      [
        'right token, own Origin 127.0.0.1',
        'accepted',
        () => attempt({ Origin: own }, hello(TOKEN)),
      ],
      [
        'right token, Host and Origin localhost',
        'accepted',
        () => attempt({ Host: `localhost:${p}`, Origin: `http://localhost:${p}` }, hello(TOKEN)),
      ],
      ['right token, no Origin (not a browser)', 'accepted', () => attempt({}, hello(TOKEN))],
      [
        'HTTP GET with Host evil.example',
        'refused',
        async () => {
          const s = await rawGet(`evil.example:${p}`);
          return s === 403 ? 'refused (HTTP 403)' : `accepted?? (HTTP ${s})`;
        },
      ],
      [
        'HTTP GET with Host 127.0.0.1',
        'accepted',
        async () => {
          const s = await rawGet(`127.0.0.1:${p}`);
          return s === 200 ? 'accepted (HTTP 200)' : `refused?? (HTTP ${s})`;
        },
      ],
    ];
    for (const [name, expected, run] of cases) rows.push([name, expected, await run()]);
    // Arguments that must keep the server from starting at all.
    const home = tmpDir('orrery-rel-args-');
    const args: [string, string[]][] = [
      ['--token of 15 characters', ['--token', 'a'.repeat(15)]],
      ['--token of 16 spaces', ['--token', ' '.repeat(16)]],
      ['--token with a space inside', ['--token', 'abcdefgh ijklmnop']],
      ['--host 0.0.0.0 without a token', ['--host', '0.0.0.0']],
      ['--host 127.evil.example', ['--host', '127.evil.example', '--token', TOKEN]],
      ['--host 127.0.0.1.nip.io', ['--host', '127.0.0.1.nip.io', '--token', TOKEN]],
    ];
    for (const [name, a] of args) {
      const r = await runChild(['--port', '0', '--home', home, ...a]);
      if (r.url !== null) r.child.kill('SIGKILL');
      rows.push([
        `args: ${name}`,
        'refused',
        r.url === null
          ? `refused (exit ${r.code}: ${clip(r.output.split('\n').find((l) => l.startsWith('orrery:')) ?? r.output, 70)})`
          : `accepted?? (served ${r.url})`,
      ]);
    }
    expect(server.alive()).toBe(true);
    for (const [name, expected, got] of rows)
      expect(got, name).toMatch(new RegExp(`^${expected} `));
  });
});
