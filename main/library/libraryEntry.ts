/**
 * A library entry for a Hugging Face model opened in place: a folder in the library holding only
 * manifest.json (kind text-lm, model format 'hf' naming the model folder, SAE folders, texts
 * and Neuronpedia export by absolute path). Nothing is copied: a 500 MB model stays where it
 * is. The manifest is written to a temporary folder and renamed into place, so a half-written
 * entry is never listed.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { OPENED_MODEL_SOURCE, OrreryError, type ModelInspection } from '../../preload/contract';
import { ManifestSchema, describeZodError, type Manifest } from '../packs/manifest';

/** A pack id from a folder name: lower-case letters, digits and -, at most 64. */
export function packIdFor(dir: string, taken: ReadonlySet<string>): string {
  const base =
    path
      .basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 56) || 'model';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

/** The manifest of the entry for what inspectModelFolder found (it must be ready). */
export function entryManifest(found: ModelInspection, id: string, name?: string): Manifest {
  const raw = {
    format: 1,
    id,
    name: name ?? `${path.basename(found.dir)} (${found.architecture})`,
    version: '0.0.0',
    license: `As the model folder says (${found.dir}); Orrery copies nothing of it.`,
    source: `${OPENED_MODEL_SOURCE} ${found.architecture} export opened in place from ${found.dir}: ${found.layers} layers, d_model ${found.dModel}, ${found.heads} heads, vocabulary ${found.vocab}; ${found.saes.length} SAE${found.saes.length === 1 ? '' : 's'}${found.neuronpedia ? ', dashboards from a Neuronpedia export' : ''}.`,
    kind: 'text-lm',
    model: {
      format: 'hf',
      dir: found.dir,
      graph: found.graph,
      tokenizer: found.tokenizer,
      config: found.config,
      architecture: found.architecture,
      n_kv_heads: found.kvHeads,
      d_model: found.dModel,
      n_layers: found.layers,
      n_heads: found.heads,
      d_head: found.dHead,
      context: found.context,
      vocab_size: found.vocab,
      ...(found.bos !== null ? { bos_token_id: found.bos } : {}),
      ...(found.eos !== null ? { eos_token_id: found.eos } : {}),
    },
    saes: found.saes.map((s) => ({ id: s.id, hook: s.hook, dir: s.dir })),
    ...(found.examples ? { examples: { texts: found.examples } } : {}),
    ...(found.neuronpedia?.saeId
      ? { neuronpedia: [{ sae: found.neuronpedia.saeId, dir: found.neuronpedia.dir }] }
      : {}),
  };
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new OrreryError(
      'bad_input',
      `the library entry would not be valid: ${describeZodError(parsed.error)}`,
    );
  return parsed.data;
}

/** Writes `manifest` as library/<id>/manifest.json; refuses an id already there. */
export async function writeEntry(library: string, manifest: Manifest): Promise<string> {
  await fs.mkdir(library, { recursive: true });
  const target = path.join(library, manifest.id);
  if (existsSync(target))
    throw new OrreryError('bad_input', `the library already has a folder ${manifest.id}`);
  const staging = path.join(library, `.opening-${manifest.id}-${process.pid}-${Date.now()}`);
  try {
    await fs.mkdir(staging);
    await fs.writeFile(
      path.join(staging, 'manifest.json'),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    await fs.rename(staging, target);
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true });
    throw e;
  }
  return target;
}
