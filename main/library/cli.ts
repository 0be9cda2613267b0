/**
 * "Open model…" from a shell, without the window:
 *   npm run orrery -- open <model dir> --sae <dir> [--sae <dir> …] [--neuronpedia <dir>]
 *                          [--examples <texts.jsonl>] [--name <name>] [--home <dir>]
 * Prints what the folders hold (the same inspection the dialog shows), then opens them through
 * the app's own `models.open` call (the same library entry and index, in ~/.orrery or
 * ORRERY_HOME) with a progress bar. Ctrl-C cancels; nothing is left half-made.
 */
import path from 'node:path';
import { describeHooks, type ModelInspection, type OpenedModel } from '../../preload/contract';
import { composeApp } from '../app/compose';
import { findAppRoot, resolveConfig } from '../app/config';
import { runCli } from '../cli/terminal';
import { dispatchJob } from './progressBar';

interface Args {
  dir: string;
  saes: string[];
  neuronpedia?: string;
  examples?: string;
  name?: string;
  home?: string;
}

const USAGE =
  'usage: npm run orrery -- open <model dir> --sae <dir> [--sae <dir> …] [--neuronpedia <dir>] [--examples <texts.jsonl>] [--name <name>] [--home <dir>]';

function parse(argv: readonly string[]): Args {
  const out: Partial<Args> & { saes: string[] } = { saes: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--sae') out.saes.push(path.resolve(value()));
    else if (a === '--neuronpedia') out.neuronpedia = path.resolve(value());
    else if (a === '--examples') out.examples = path.resolve(value());
    else if (a === '--name') out.name = value();
    else if (a === '--home') out.home = path.resolve(value());
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else if (out.dir === undefined) out.dir = path.resolve(a);
    else throw new Error(`one model folder at a time (got ${out.dir} and ${a})\n${USAGE}`);
  }
  if (!out.dir) throw new Error(USAGE);
  return { ...out, dir: out.dir };
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** The inspection as a few aligned lines. */
export function describeInspection(f: ModelInspection): string {
  const lines = [
    `model       ${f.dir}`,
    `            ${f.architecture}: ${f.layers} layers, d_model ${f.dModel}, ${f.heads} heads${f.kvHeads !== f.heads ? ` (${f.kvHeads} key/value)` : ''}, vocabulary ${f.vocab}, context ${f.context}`,
    `files       ${f.graph}${f.externalFiles ? ` + ${f.externalFiles} external data file${f.externalFiles === 1 ? '' : 's'}` : ''}, ${f.tokenizer}, ${f.config}: ${mb(f.sizeBytes)}`,
    `hooks       ${describeHooks(f.hooks)}`,
  ];
  for (const s of f.saes)
    lines.push(
      `SAE         ${s.id}: ${s.architecture ?? '?'}, ${s.dSae ?? '?'} features, d_in ${s.dIn ?? '?'} at ${s.hook ?? '?'}  (${s.dir})${s.problem ? `\n            ✗ ${s.problem.message}` : ''}`,
    );
  const np = f.neuronpedia;
  if (np)
    lines.push(
      `Neuronpedia ${np.modelId ?? '?'}/${np.sourceId ?? '?'}: ${np.features} features${np.hook ? ` at ${np.hook}` : ''}${np.saeId ? ` → ${np.saeId}` : ''}${np.problem ? `\n            ✗ ${np.problem.message}` : ''}`,
    );
  else if (f.examples) lines.push(`index over  ${f.examples}`);
  for (const p of f.problems) lines.push(`✗ ${p.message}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const given = [args.dir, ...args.saes, args.neuronpedia, args.examples].filter(
    (p): p is string => typeof p === 'string',
  );
  const appRoot = findAppRoot(__dirname);
  // The folders named here are the only ones this run may read (the path policy's roots).
  const app = composeApp(resolveConfig('headless', appRoot, { home: args.home, allow: given }));
  const request = {
    dir: args.dir,
    saes: args.saes,
    ...(args.neuronpedia ? { neuronpedia: args.neuronpedia } : {}),
    ...(args.examples ? { examples: args.examples } : {}),
  };
  try {
    const found = await app.dispatcher.dispatch('models.inspect', request);
    if (!found.ok) {
      console.error(`✗ ${found.error.message}`);
      return 1;
    }
    const inspection = found.value as ModelInspection;
    console.log(describeInspection(inspection));
    if (!inspection.ready) return 1;
    const r = await dispatchJob(
      app,
      'models.open',
      { ...request, ...(args.name ? { name: args.name } : {}) },
      `cli-open-${process.pid}`,
    );
    if (!r.ok) {
      console.error(`✗ ${r.error.message}`);
      return 1;
    }
    const opened = r.value as OpenedModel;
    console.log(
      `opened      ${opened.pack.name} (${opened.pack.id}) in ${path.join(app.config.libraryDir, opened.pack.id)}: ${opened.features} features, index ${opened.index === 'neuronpedia' ? 'from the Neuronpedia export' : 'built here'}`,
    );
    return 0;
  } finally {
    await app.dispose();
  }
}

runCli(main, 2);
