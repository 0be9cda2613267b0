/**
 * Which methods can bridge two SAEs, from their packs' manifests: the default, decoder cosine
 * for two SAEs on the same hook of the same model, else correlation of activations; and, only
 * when asked, 'effect' (effectStage.ts), which compares effects on the logits token by token,
 * so both sides must be text models reading one tokenizer.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LoadedPack } from '../packs/packReader';
import type { BridgeMethod } from './meta';

/** One side as the manifests name it. */
export interface MethodSide {
  pack: LoadedPack;
  hook: string;
}

/** The method a build uses when none is asked. */
export function defaultMethod(a: MethodSide, b: MethodSide): BridgeMethod {
  const sameStream = a.pack.manifest.id === b.pack.manifest.id && a.hook === b.hook;
  return sameStream ? 'decoder' : 'correlation';
}

/** Tokenizer files' SHA-256 by path, kept while the file's mtime and size stay (the bridge pane
 * and cards ask for a pair's methods often; the files are read again only when they change). */
const digests = new Map<string, { stamp: string; digest: string }>();

async function digestOf(file: string): Promise<string> {
  const st = await fs.stat(file);
  const stamp = `${st.mtimeMs}:${st.size}`;
  const hit = digests.get(file);
  if (hit?.stamp === stamp) return hit.digest;
  const digest = createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
  digests.set(file, { stamp, digest });
  return digest;
}

/** Why an effect bridge cannot join packs `a` and `b`, or null when it can. */
export async function effectRefusal(a: LoadedPack, b: LoadedPack): Promise<string | null> {
  const files: string[] = [];
  for (const p of [a, b]) {
    const m = p.manifest;
    if (m.kind !== 'text-lm') return `an effect bridge joins two text models; ${m.id} is ${m.kind}`;
    files.push(path.join(p.dir, m.model.tokenizer));
  }
  const [fa, fb] = files as [string, string];
  if (fa === fb) return null;
  const [ta, tb] = await Promise.all([digestOf(fa), digestOf(fb)]);
  return ta === tb
    ? null
    : `an effect bridge compares logits token by token: ${a.manifest.id} and ${b.manifest.id} have different tokenizers`;
}

/** The methods a pair can be built by: its default, and 'effect' where effectRefusal allows. */
export async function methodsFor(a: MethodSide, b: MethodSide): Promise<BridgeMethod[]> {
  const def = defaultMethod(a, b);
  return (await effectRefusal(a.pack, b.pack)) === null ? [def, 'effect'] : [def];
}
