/**
 * The SAELens SAE folders a person names for "Open model…": a folder holding cfg.json (one
 * SAE), or a folder of such folders (a SAELens release downloaded whole: one SAE per hook).
 * Each cfg.json is read with the SAE loader's own parser (hook from `hook_name`, v5
 * `hook_point` or v6 `metadata.hook_name`; d_in, d_sae, architecture), and checked against the
 * hooks the model exposes and its width: a problem is named per SAE, never thrown.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeHooks, OrreryError, type InspectedSae } from '../../preload/contract';
import { CFG_FILE, parseSaeConfig, WEIGHTS_FILE } from '../sae';

const MAX_CFG_BYTES = 1_000_000;

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The SAE folders `given` names, in order: itself, or its sub-folders that hold cfg.json. */
export function saeDirs(given: string): string[] {
  if (!isDir(given))
    throw new OrreryError('bad_input', `${given} is not a folder that can be read`);
  if (existsSync(path.join(given, CFG_FILE))) return [given];
  const subs = readdirSync(given)
    .filter((n) => !n.startsWith('.'))
    .map((n) => path.join(given, n))
    .filter((p) => isDir(p) && existsSync(path.join(p, CFG_FILE)))
    .sort();
  if (subs.length === 0)
    throw new OrreryError(
      'bad_input',
      `${given} is not an SAE folder: no ${CFG_FILE} in it or in a folder inside it`,
    );
  return subs;
}

/** A manifest / API id for an SAE: its hook when free, else the hook with -2, -3 … */
function uniqueId(wanted: string, taken: Set<string>): string {
  const base = wanted.replace(/[^A-Za-z0-9._:-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'sae';
  let id = base.slice(0, 60);
  for (let n = 2; taken.has(id); n++) id = `${base.slice(0, 56)}-${n}`;
  taken.add(id);
  return id;
}

/** What the model offers an SAE: its residual hooks (for messages) and every hook an SAE
 * may read with its width (residual stream and attention hook_z). */
export interface ModelSide {
  hooks: readonly string[];
  hookWidths: Readonly<Record<string, number>>;
}

/** Reads and checks every SAE folder (each named folder expanded by saeDirs); ids avoid
 * `takenIds` (the SAEs an entry already has, when more are added). */
export function inspectSaes(
  given: readonly string[],
  model: ModelSide,
  takenIds: Iterable<string> = [],
): InspectedSae[] {
  const taken = new Set<string>(takenIds);
  const out: InspectedSae[] = [];
  const seen = new Set<string>();
  for (const dir of given.map((g) => path.resolve(g)).flatMap(saeDirs)) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    out.push(inspectOne(dir, model, taken));
  }
  return out;
}

function inspectOne(dir: string, model: ModelSide, taken: Set<string>): InspectedSae {
  const cfgFile = path.join(dir, CFG_FILE);
  const bad = (message: string): InspectedSae => ({
    dir,
    id: uniqueId(path.basename(dir), taken),
    hook: null,
    dIn: null,
    dSae: null,
    architecture: null,
    problem: { code: 'bad-sae', message },
  });
  let raw: unknown;
  try {
    if (statSync(cfgFile).size > MAX_CFG_BYTES) return bad(`${cfgFile} is over 1 MB`);
    raw = JSON.parse(readFileSync(cfgFile, 'utf8'));
  } catch (e) {
    return bad(`${cfgFile} cannot be read as JSON (${(e as Error).message})`);
  }
  let cfg;
  try {
    cfg = parseSaeConfig(raw, cfgFile);
  } catch (e) {
    return bad((e as Error).message);
  }
  if (!existsSync(path.join(dir, WEIGHTS_FILE)))
    return bad(`${dir} has no ${WEIGHTS_FILE} beside its ${CFG_FILE}`);
  const hook = cfg.hookName;
  const base = {
    dir,
    id: uniqueId(hook ?? path.basename(dir), taken),
    hook,
    dIn: cfg.dIn,
    dSae: cfg.dSae,
    architecture: cfg.architecture,
  };
  if (hook === null)
    return {
      ...base,
      problem: {
        code: 'bad-sae',
        message: `${cfgFile} names no hook (hook_name, hook_point or metadata.hook_name)`,
      },
    };
  const width = model.hookWidths[hook];
  if (width === undefined)
    return {
      ...base,
      problem: {
        code: 'hook-not-exposed',
        message: `this SAE reads ${hook}, which the model does not expose (it has ${describeHooks(model.hooks)}${zHooks(model)})`,
      },
    };
  if (cfg.dIn !== width)
    return {
      ...base,
      problem: {
        code: 'd-in-mismatch',
        message: `this SAE reads vectors of width ${cfg.dIn} (d_in), but the model's ${hook.endsWith('hook_z') ? 'attention output' : 'residual stream'} at ${hook} has width ${width}`,
      },
    };
  return { ...base, problem: null };
}

/** " and blocks.0–11.attn.hook_z" when the model has attention hooks, else "". */
function zHooks(model: ModelSide): string {
  const blocks = Object.keys(model.hookWidths)
    .map((h) => /^blocks\.(\d+)\.attn\.hook_z$/.exec(h)?.[1])
    .filter((b): b is string => b !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  if (blocks.length === 0) return '';
  const last = blocks[blocks.length - 1] as number;
  return ` and blocks.${blocks[0] === last ? last : `${blocks[0]}–${last}`}.attn.hook_z`;
}
