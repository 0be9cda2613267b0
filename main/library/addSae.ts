/**
 * "Add SAE…": more SAELens SAE folders for a model already in the library as an 'Open model…'
 * entry (manifest model format 'hf'). Each folder is checked as "Open model…" checks it (a
 * hook the model exposes, d_in its width, named problems), the entry's manifest.json gains
 * them (written beside it and renamed over it), the pack list and the runtime's engine for
 * the entry are refreshed, and each new SAE's index is built. Any failure, cancel included,
 * puts the old manifest back.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { OrreryError, type AddedSaes, type modelInputs } from '../../preload/contract';
import type { z } from 'zod';
import type { JobContext } from '../api/jobs';
import { isHfModel, ManifestSchema, describeZodError } from '../packs/manifest';
import type { PackService } from '../packs/packService';
import { inspectModelFolder } from './inspect';
import { inspectSaes } from './saeFolders';

/** What adding needs of the app. */
export interface AddSaeDeps {
  packs: PackService;
  /** The normal index build of one SAE; its feature count. */
  build(packId: string, saeId: string, job: JobContext): Promise<number>;
  /** Drops the runtime's engine for a pack folder, so its next use reads the manifest again. */
  unload(packDir: string): Promise<unknown>;
  /** The texts to index over when the entry names none (null when there are none). */
  defaultExamples(): Promise<string | null>;
}

/** Writes `text` as dir/manifest.json through a temporary file renamed over it. */
async function replaceManifest(dir: string, text: string): Promise<void> {
  const file = path.join(dir, 'manifest.json');
  const temp = path.join(dir, `.manifest-${process.pid}-${Date.now()}.json`);
  try {
    await fs.writeFile(temp, text);
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw e;
  }
}

export async function addSaes(
  deps: AddSaeDeps,
  input: z.output<typeof modelInputs.addSae>,
  job: JobContext,
): Promise<AddedSaes> {
  const { pack, location } = await deps.packs.find(input.packId);
  const m = pack.manifest;
  if (location !== 'library' || m.kind !== 'text-lm' || !isHfModel(m.model))
    throw new OrreryError(
      'bad_input',
      `SAEs can be added only to a model opened with "Open model…"; ${m.id} is not one`,
    );
  job.progress('reading the model', 0, 1);
  const model = await inspectModelFolder({ dir: m.model.dir });
  job.throwIfCancelled();
  const found = inspectSaes(
    input.saes,
    { hooks: model.hooks, hookWidths: model.hookWidths },
    m.saes.map((s) => s.id),
  );
  const attached = new Set(m.saes.map((s) => path.resolve(pack.dir, s.dir)));
  const problems = found.flatMap((s) => {
    if (s.problem) return [`${s.dir}: ${s.problem.message}`];
    if (attached.has(s.dir)) return [`${s.dir}: this SAE is already attached to ${m.id}`];
    return [];
  });
  if (problems.length > 0)
    throw new OrreryError('bad_input', `cannot add to ${m.id}: ${problems.join('; ')}`);

  const file = path.join(pack.dir, 'manifest.json');
  const before = await fs.readFile(file, 'utf8');
  const raw = JSON.parse(before) as Record<string, unknown> & { saes: unknown[] };
  const examples = raw.examples ?? (await deps.defaultExamples().then((t) => t && { texts: t }));
  if (!examples)
    throw new OrreryError(
      'bad_input',
      `${m.id} names no texts to build the new SAEs' index over, and no bundled pack has any`,
    );
  const next = {
    ...raw,
    examples,
    saes: [...raw.saes, ...found.map((s) => ({ id: s.id, hook: s.hook, dir: s.dir }))],
  };
  const parsed = ManifestSchema.safeParse(next);
  if (!parsed.success)
    throw new OrreryError(
      'bad_input',
      `the entry would not be valid: ${describeZodError(parsed.error)}`,
    );
  const refresh = async (): Promise<void> => {
    await deps.packs.scan();
    await deps.unload(pack.dir);
  };
  await replaceManifest(pack.dir, `${JSON.stringify(next, null, 2)}\n`);
  try {
    await refresh();
    let features = 0;
    for (const [i, sae] of found.entries()) {
      job.throwIfCancelled();
      features += await deps.build(m.id, sae.id, {
        jobId: job.jobId,
        signal: job.signal,
        throwIfCancelled: () => job.throwIfCancelled(),
        progress: (stage, done, total) =>
          job.progress(`${sae.id} (${i + 1}/${found.length}): ${stage}`, done, total),
      });
    }
    const now = await deps.packs.find(m.id);
    return { pack: deps.packs.summary(now.pack, 'library'), added: found, features };
  } catch (e) {
    await replaceManifest(pack.dir, before);
    await refresh();
    throw e;
  }
}
