/**
 * Bridges between two SAEs for the API (main/bridge): build one in an index worker thread of
 * its own (a job with progress and cancel; a cancelled build resumes), its status (with the
 * pair's built bridges and the methods it can be built by), one feature's matches, and every
 * feature's best match on one side at once. Bridge files live beside the indexes, in
 * <index folder>/bridges/, the effect bridge of a pair in a file of its own (files.ts); a read
 * picks the file as opened.ts says. This class only checks inputs and routes calls.
 */
import { existsSync } from 'node:fs';
import type { z } from 'zod';
import {
  OrreryError,
  type BridgeBestSchema,
  type BridgeMatchesSchema,
  type BridgeStatusSchema,
  type bridgeInputs,
} from '../../preload/contract';
import type { JobContext } from '../api/jobs';
import type { WorkerEntry } from '../app/workerEntry';
import type { Db } from '../db/connection';
import { sharedShares } from '../bridge/build';
import { bridgeFile } from '../bridge/files';
import { bridgeState, openBridge, type BridgeMethod, type BridgeState } from '../bridge/meta';
import { methodsFor } from '../bridge/methods';
import { builtMethods, openBuiltBridge, requireBuiltBridge } from '../bridge/opened';
import { featureMatches, sideBest } from '../bridge/read';
import type { PackService } from '../packs/packService';
import { IndexWorkerHost } from './index/workerHost';

type Status = z.output<typeof BridgeStatusSchema>;
type Matches = z.output<typeof BridgeMatchesSchema>;
type Best = z.output<typeof BridgeBestSchema>;
type Ref = z.output<typeof bridgeInputs.status>;

export class BridgeService {
  private readonly worker: IndexWorkerHost;
  private readonly building = new Set<string>();
  private readonly busy = (file: string): boolean => this.building.has(file);

  constructor(
    private readonly packs: PackService,
    private readonly indexDir: string,
    workerEntry: WorkerEntry,
  ) {
    this.worker = new IndexWorkerHost(workerEntry);
  }

  /** `<pack folder>#<sae id>`, checked against the pack's manifest. */
  private async side(ref: Ref['a']): Promise<string> {
    const { pack } = await this.packs.find(ref.packId);
    if (!pack.saes.some((s) => s.id === ref.saeId))
      throw new OrreryError('not_found', `pack ${ref.packId} has no SAE ${ref.saeId}`);
    return `${pack.dir}#${ref.saeId}`;
  }

  /** The methods the pair can be built by; none when a pack or SAE is not found. */
  private async methods(ref: Ref): Promise<BridgeMethod[]> {
    const sideOf = async (r: Ref['a']) => {
      const { pack } = await this.packs.find(r.packId);
      const sae = pack.saes.find((s) => s.id === r.saeId);
      if (!sae) throw new OrreryError('not_found', `pack ${r.packId} has no SAE ${r.saeId}`);
      return { pack, hook: sae.hook };
    };
    try {
      return await methodsFor(await sideOf(ref.a), await sideOf(ref.b));
    } catch {
      return [];
    }
  }

  async status(input: Ref): Promise<Status> {
    const methods = await this.methods(input);
    const built = builtMethods(this.indexDir, input.a, input.b, this.busy);
    const open = openBuiltBridge(this.indexDir, input.a, input.b, input.method, this.busy);
    // nothing built by that method: the file a build by it writes, as far as it got
    const file = open?.file ?? bridgeFile(this.indexDir, input.a, input.b, input.method);
    const empty: Status = {
      built: false,
      file,
      method: null,
      builtMethods: built,
      methods,
      unit: '',
      samples: 0,
      featuresA: 0,
      featuresB: 0,
      sharedA: 0,
      sharedB: 0,
      sharedAt: 0,
    };
    if (!open && (!existsSync(file) || this.busy(file))) return empty;
    const db = open?.db ?? openBridge(file, { readonly: true });
    try {
      const s = open?.state ?? bridgeState(db);
      // the file holds a bridge by another method (decoder and correlation share one)
      if (!s || (input.method && s.method !== input.method)) return empty;
      const shares = s.stage === 'done' ? sharedShares(db, s.sharedAt) : { a: 0, b: 0 };
      return {
        ...empty,
        built: s.stage === 'done',
        method: s.method,
        unit: s.unit,
        samples: s.samples,
        featuresA: s.a.dSae,
        featuresB: s.b.dSae,
        sharedA: shares.a,
        sharedB: shares.b,
        sharedAt: s.sharedAt,
      };
    } finally {
      db.close();
    }
  }

  async build(input: z.output<typeof bridgeInputs.build>, job: JobContext): Promise<Status> {
    const [a, b] = [await this.side(input.a), await this.side(input.b)];
    const file = bridgeFile(this.indexDir, input.a, input.b, input.method);
    if (this.building.has(file))
      throw new OrreryError('bad_input', 'this bridge is already being built');
    this.building.add(file);
    try {
      await this.worker.run(
        { type: 'bridge-build', id: file, dbFile: file, a, b, method: input.method },
        job,
        'bridge build',
        'bad_input',
      );
    } finally {
      this.building.delete(file);
    }
    return this.status(input);
  }

  /** Reads a built bridge (not_found while it is missing, building or unfinished). */
  private readDone<T>(
    input: z.output<typeof bridgeInputs.best>,
    read: (db: Db, s: BridgeState) => T,
  ): T {
    const { db, state } = requireBuiltBridge(
      this.indexDir,
      input.a,
      input.b,
      input.method,
      this.busy,
    );
    try {
      return read(db, state);
    } finally {
      db.close();
    }
  }

  matches(input: z.output<typeof bridgeInputs.matches>): Matches {
    return this.readDone(input, (db, s) => {
      const d = input.side === 'a' ? s.a.dSae : s.b.dSae;
      if (input.feature >= d)
        throw new OrreryError('not_found', `side ${input.side} has no feature ${input.feature}`);
      const m = featureMatches(db, input.side, input.feature);
      return {
        side: m.side,
        feature: m.feature,
        status: m.status,
        sharedAt: s.sharedAt,
        method: s.method,
        other: input.side === 'a' ? input.b : input.a,
        matches: m.matches,
      };
    });
  }

  best(input: z.output<typeof bridgeInputs.best>): Best {
    return this.readDone(input, (db, s) => ({
      side: input.side,
      sharedAt: s.sharedAt,
      method: s.method,
      other: input.side === 'a' ? input.b : input.a,
      ...sideBest(db, input.side),
    }));
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
