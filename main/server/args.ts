/** Command-line options of the headless server: --port, --host, --token, --home, --models. */
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

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
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
        args.host = value();
        break;
      case '--token':
        args.token = value();
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
  if (!isLoopback(args.host) && (args.token === null || args.token.length < 16)) {
    throw new Error(
      `binding ${args.host} exposes Orrery beyond this machine: give --token with at least 16 characters`,
    );
  }
  return args;
}
