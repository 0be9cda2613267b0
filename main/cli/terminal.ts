/**
 * What every `npm run orrery` subcommand shares: its arguments split into positionals and
 * `--flag value` pairs, one progress line redrawn in place, and how its process ends.
 */

export interface Args {
  positional: string[];
  flags: Map<string, string>;
}

export function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('--')) {
      flags.set(a.slice(2), argv[i + 1] ?? '');
      i++;
    } else positional.push(a);
  }
  return { positional, flags };
}

/** `\r<label> [####------] done/total 1.2s`, for a stage that began at `started` (performance.now). */
export function progressLine(label: string, done: number, total: number, started: number): string {
  const width = 28;
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(frac * width);
  const secs = (performance.now() - started) / 1000;
  return `\r${label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${done}/${total} ${secs.toFixed(1)}s `;
}

/**
 * Runs a subcommand's main and exits with its code; an error it throws is printed as one line
 * (after `prefix`, when given) and exits with `failCode`.
 */
export function runCli(main: () => Promise<number>, failCode: number, prefix = ''): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`${prefix}${(e as Error).message}`);
      process.exit(failCode);
    },
  );
}
