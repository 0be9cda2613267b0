/**
 * The models calls: `models.inspect` (what the folders hold) and `models.open`, a job that
 * inspects again, writes the library entry (libraryEntry.ts: the folders named in place) and
 * fills the entry's feature index: with a Neuronpedia export, its dashboards are imported and
 * the galaxy is mapped from the SAE decoder (no pass over a corpus); without, the index is built
 * over the texts as any pack's is. A failed or cancelled open removes the entry (an index
 * build already under way resumes when the same folders are opened again). `models.addSae`
 * attaches more SAE folders to such an entry (addSae.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  OrreryError,
  type AddedSaes,
  type ModelInspection,
  type OpenedModel,
  type modelInputs,
} from '../../preload/contract';
import type { z } from 'zod';
import type { JobContext } from '../api/jobs';
import type { PackService } from '../packs/packService';
import { addSaes } from './addSae';
import { inspectModelFolder } from './inspect';
import { entryManifest, packIdFor, writeEntry } from './libraryEntry';

/** What the open job asks of the feature index (IndexService in the app). */
export interface ModelIndex {
  /** The normal build of one SAE over the pack's texts; its feature count. */
  build(packId: string, saeId: string, job: JobContext): Promise<number>;
  /** A Neuronpedia export's dashboards into one SAE, the map from its decoder when the export
   * has none; the SAE then counts as built. Its feature count. */
  importDashboards(packId: string, saeId: string, dir: string, job: JobContext): Promise<number>;
}

/** A job context whose stages say which part of the open they belong to. */
function part(job: JobContext, prefix: string): JobContext {
  return {
    jobId: job.jobId,
    signal: job.signal,
    throwIfCancelled: () => job.throwIfCancelled(),
    progress: (stage, done, total) => job.progress(`${prefix}: ${stage}`, done, total),
  };
}

/** Says every problem of an inspection in one sentence (the open refuses with it). */
export function problemsOf(found: ModelInspection): string[] {
  return [
    ...found.problems.map((p) => p.message),
    ...found.saes.flatMap((s) => (s.problem ? [`${s.dir}: ${s.problem.message}`] : [])),
    ...(found.neuronpedia?.problem
      ? [`${found.neuronpedia.dir}: ${found.neuronpedia.problem.message}`]
      : []),
  ];
}

export class ModelService {
  constructor(
    private readonly packs: PackService,
    private readonly index: ModelIndex,
    private readonly library: string,
    /** Drops the runtime's engine for a pack folder (its manifest changed). */
    private readonly unload: (packDir: string) => Promise<unknown>,
  ) {}

  /** The texts of the first bundled text pack that has some: the default to index over. */
  private async defaultExamples(): Promise<string | null> {
    const { packs } = await this.packs.scan();
    for (const { pack, location } of packs) {
      const m = pack.manifest;
      if (location === 'bundled' && m.kind === 'text-lm' && m.examples)
        return path.resolve(pack.dir, m.examples.texts);
    }
    return null;
  }

  async inspect(
    input: z.output<typeof modelInputs.inspect>,
    onStage?: (stage: string) => void,
  ): Promise<ModelInspection> {
    return inspectModelFolder(input, {
      defaultExamples: await this.defaultExamples(),
      onStage,
    });
  }

  /** "Add SAE…" (addSae.ts). */
  addSae(input: z.output<typeof modelInputs.addSae>, job: JobContext): Promise<AddedSaes> {
    return addSaes(
      {
        packs: this.packs,
        build: (packId, saeId, j) => this.index.build(packId, saeId, j),
        unload: this.unload,
        defaultExamples: () => this.defaultExamples(),
      },
      input,
      job,
    );
  }

  async open(input: z.output<typeof modelInputs.open>, job: JobContext): Promise<OpenedModel> {
    const steps = 3;
    const found = await this.inspect(input, (stage) => job.progress(stage, 0, steps));
    if (!found.ready)
      throw new OrreryError(
        'bad_input',
        `cannot open ${found.dir}: ${problemsOf(found).join('; ')}`,
      );
    job.throwIfCancelled();
    job.progress('writing the library entry', 1, steps);
    const { packs } = await this.packs.scan();
    // Taken: every pack's id and every folder already in the library (a broken entry too).
    const folders = await fs.readdir(this.library).catch(() => [] as string[]);
    const id = packIdFor(found.dir, new Set([...packs.map((p) => p.pack.manifest.id), ...folders]));
    const dir = await writeEntry(this.library, entryManifest(found, id, input.name));
    try {
      const { pack } = await this.packs.find(id);
      let features = 0;
      let how: OpenedModel['index'] = 'built';
      const np = found.neuronpedia;
      for (const sae of found.saes) {
        job.throwIfCancelled();
        if (np && np.saeId === sae.id) {
          how = 'neuronpedia';
          features += await this.index.importDashboards(id, sae.id, np.dir, part(job, sae.id));
        } else {
          features += await this.index.build(id, sae.id, part(job, sae.id));
        }
      }
      job.progress('done', steps, steps);
      return { pack: this.packs.summary(pack, 'library'), index: how, features };
    } catch (e) {
      await fs.rm(dir, { recursive: true, force: true });
      await this.packs.scan();
      throw e;
    }
  }
}
