/**
 * "Add SAE…" from a shell:
 *   npm run orrery -- add-sae <pack id> <sae dir> [<sae dir> …] [--home <dir>]
 * Attaches SAELens SAE folders to a model opened with `open` (a library entry in ~/.orrery or
 * ORRERY_HOME) through the app's own `models.addSae` call: each folder checked against the
 * model's hooks and width, then each new SAE's index built, with a progress bar. Ctrl-C
 * cancels and the entry stays as it was.
 */
import path from 'node:path';
import type { AddedSaes } from '../../preload/contract';
import { composeApp } from '../app/compose';
import { findAppRoot, resolveConfig } from '../app/config';
import { runCli } from '../cli/terminal';
import { dispatchJob } from './progressBar';

const USAGE = 'usage: npm run orrery -- add-sae <pack id> <sae dir> [<sae dir> …] [--home <dir>]';

function parse(argv: readonly string[]): { packId: string; saes: string[]; home?: string } {
  const rest: string[] = [];
  let home: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--home') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--home needs a value\n${USAGE}`);
      home = path.resolve(v);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else rest.push(a);
  }
  const [packId, ...saes] = rest;
  if (packId === undefined || saes.length === 0) throw new Error(USAGE);
  return { packId, saes: saes.map((s) => path.resolve(s)), ...(home ? { home } : {}) };
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  // The folders named here are the only ones this run may read (the path policy's roots).
  const app = composeApp(
    resolveConfig('headless', findAppRoot(__dirname), { home: args.home, allow: args.saes }),
  );
  try {
    const r = await dispatchJob(
      app,
      'models.addSae',
      { packId: args.packId, saes: args.saes },
      `cli-add-sae-${process.pid}`,
    );
    if (!r.ok) {
      console.error(`✗ ${r.error.message}`);
      return 1;
    }
    const done = r.value as AddedSaes;
    for (const s of done.added)
      console.log(
        `added       ${s.id}: ${s.architecture ?? '?'}, ${s.dSae ?? '?'} features, d_in ${s.dIn ?? '?'} at ${s.hook ?? '?'}  (${s.dir})`,
      );
    console.log(
      `${done.pack.name} (${done.pack.id}) now has ${done.pack.saes.length} SAEs; ${done.features} features indexed`,
    );
    return 0;
  } finally {
    await app.dispose();
  }
}

runCli(main, 2);
