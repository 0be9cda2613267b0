/**
 * Command-line options of the headless server: --port, --host, --token, --home, --models.
 * Without --token, a random one is made for each launch (see newToken).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

/** A random per-launch token: 32 URL-safe characters. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface ServerArgs {
  port: number;
  host: string;
  token: string | null;
  home: string | undefined;
  models: string | undefined;
  /** --allow DIR (repeatable): the folders the page may use; none given: the home folder. */
  allow: string[];
}

export const DEFAULT_PORT = 5178;

/** True for an address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.split('.')[0] === '127';
}

/** --host must be an IP address (v4 or v6) or localhost; a name could resolve anywhere. */
export function parseHost(value: string): string {
  const host = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (host === 'localhost' || isIP(host) !== 0) return host;
  throw new Error(`--host must be an IP address or localhost (got "${value}")`);
}

/** A token given on the command line: at least 16 characters, none of them spaces. */
export function checkToken(token: string): string {
  if (!/^\S{16,}$/.test(token))
    throw new Error('--token needs at least 16 characters and no spaces');
  return token;
}

export function parseServerArgs(argv: readonly string[]): ServerArgs {
  const args: ServerArgs = {
    port: DEFAULT_PORT,
    host: '127.0.0.1',
    token: null,
    home: undefined,
    models: undefined,
    allow: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const [name, inline] = flag.includes('=') ? flag.split(/=(.*)/s, 2) : [flag, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--port': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new Error('--port must be an integer from 0 to 65535');
        args.port = n;
        break;
      }
      case '--host':
        args.host = parseHost(value());
        break;
      case '--token':
        args.token = checkToken(value());
        break;
      case '--home':
        args.home = value();
        break;
      case '--models':
        args.models = value();
        break;
      case '--allow':
        args.allow.push(value());
        break;
      default:
        throw new Error(
          `unknown option ${flag} (options: --port N, --host H, --token T, --home DIR, --models DIR, --allow DIR)`,
        );
    }
  }
  if (!isLoopback(args.host) && args.token === null) {
    throw new Error(
      `binding ${args.host} exposes Orrery beyond this machine: give --token with at least 16 characters`,
    );
  }
  return args;
}
