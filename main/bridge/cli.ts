/**
 * Bridges from a shell, without the app:
 *   npm run orrery -- bridge build <side A> <side B> [--method decoder|correlation|effect]
 *        [--corpus folder] [--examples n] [--top n] [--shared 0.5] [--out file] [--threads n]
 *   npm run orrery -- bridge export <bridge file> <out.csv|out.json>
 *   npm run orrery -- bridge show <bridge file> <a|b> <feature>
 * A side is a pack folder, `<pack folder>#<sae id>`, or `<pack folder>#<SAE folder>` (an SAE
 * outside the manifest; its cfg.json names the hook). The bridge file defaults to
 * ~/.orrery/index/bridges/<packA>.<saeA>__<packB>.<saeB>.sqlite, `.effect.sqlite` for an effect
 * bridge (files.ts), where the app finds it. A build can be interrupted
 * (Ctrl-C) and resumed by running the same command again.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildBridge } from './build';
import { bridgeFile } from './files';
import { BridgeCancelled, openBridge, type BridgeMethod, type BridgeProgress } from './meta';
import { exportBridge, featureMatches } from './read';
import { openSide } from './sides';
import { parseArgs, progressLine, type Args, runCli } from '../cli/terminal';

function bar(p: BridgeProgress, started: number): string {
  return progressLine(p.stage.padEnd(6), p.done, p.total, started);
}

const num = (a: Args, name: string): number | undefined =>
  a.flags.has(name) ? Number(a.flags.get(name)) : undefined;

async function build(a: Args): Promise<number> {
  const [, specA, specB] = a.positional;
  if (!specA || !specB) throw new Error('usage: bridge build <side A> <side B> [--out file]');
  const method = a.flags.get('method') as BridgeMethod | undefined;
  if (method && method !== 'decoder' && method !== 'correlation' && method !== 'effect')
    throw new Error(`--method is decoder, correlation or effect, not ${method}`);
  let out = a.flags.get('out');
  if (!out) {
    const [sa, sb] = [await openSide(specA), await openSide(specB)];
    const ref = (s: typeof sa) => ({ packId: s.pack.manifest.id, saeId: s.saeId });
    out = bridgeFile(undefined, ref(sa), ref(sb), method);
    mkdirSync(path.dirname(out), { recursive: true });
  }
  const db = openBridge(out);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const started = performance.now();
  let last = '';
  try {
    const summary = await buildBridge(db, specA, specB, {
      method,
      corpusDir: a.flags.get('corpus'),
      maxExamples: num(a, 'examples'),
      topK: num(a, 'top'),
      sharedAt: num(a, 'shared'),
      threads: num(a, 'threads'),
      signal: controller.signal,
      onProgress: (p) => {
        const line = bar(p, started);
        if (line !== last && process.stderr.isTTY) process.stderr.write(line);
        else if (p.done === p.total) process.stderr.write(`${line.trim()}\n`);
        last = line;
      },
    });
    process.stderr.write('\n');
    console.log(JSON.stringify({ ...summary, out }, null, 1));
    return 0;
  } catch (e) {
    if (e instanceof BridgeCancelled) {
      process.stderr.write('\ncancelled; run the same command again to resume\n');
      return 130;
    }
    throw e;
  } finally {
    db.close();
  }
}

async function exportCmd(a: Args): Promise<number> {
  const [, file, out] = a.positional;
  if (!file || !out) throw new Error('usage: bridge export <bridge file> <out.csv|out.json>');
  const db = openBridge(file, { readonly: true });
  try {
    const r = await exportBridge(db, out);
    console.log(`${out}: ${r.rows} matches`);
    return 0;
  } finally {
    db.close();
  }
}

function show(a: Args): number {
  const [, file, side, feature] = a.positional;
  if (!file || (side !== 'a' && side !== 'b') || feature === undefined)
    throw new Error('usage: bridge show <bridge file> <a|b> <feature>');
  const db = openBridge(file, { readonly: true });
  try {
    console.log(JSON.stringify(featureMatches(db, side, Number(feature)), null, 1));
    return 0;
  } finally {
    db.close();
  }
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  switch (a.positional[0]) {
    case 'build':
      return build(a);
    case 'export':
      return exportCmd(a);
    case 'show':
      return show(a);
    default:
      console.error('usage: bridge build|export|show … (see the header of main/bridge/cli.ts)');
      return 2;
  }
}

runCli(main, 1, 'orrery bridge: ');
