/**
 * Carry across for the API (bridge.carry): dials on one side of a built bridge mapped to the
 * other side (main/bridge/carry.ts), with each feature's range and title read from its SAE's
 * index. This class only checks inputs and routes calls.
 */
import type { z } from 'zod';
import { OrreryError, type CarryDraftSchema, type carryInput } from '../../preload/contract';
import { carryDials, type FeatureRange } from '../bridge/carry';
import { requireBuiltBridge } from '../bridge/opened';
import { featureMatches } from '../bridge/read';

type CarryDraft = z.output<typeof CarryDraftSchema>;

/** A feature's range and title from its SAE's index (the feature card). */
export type FeatureRanges = (
  packId: string,
  saeId: string,
  feature: number,
) => Promise<FeatureRange>;

export class CarryService {
  constructor(
    private readonly indexDir: string,
    private readonly ranges: FeatureRanges,
  ) {}

  /** Dials on side `from` mapped to their best matches on the other side, as a draft. */
  async carry(input: z.output<typeof carryInput>): Promise<CarryDraft> {
    const [from, to] = input.from === 'a' ? [input.a, input.b] : [input.b, input.a];
    const wrong = input.dials.find((d) => d.saeId !== from.saeId);
    if (wrong)
      throw new OrreryError(
        'bad_input',
        `the dials to carry are on SAE ${from.saeId}; one is on ${wrong.saeId}`,
      );
    const { db, state } = requireBuiltBridge(this.indexDir, input.a, input.b, input.method);
    try {
      const d = input.from === 'a' ? state.a.dSae : state.b.dSae;
      const out = input.dials.find((x) => x.feature >= d);
      if (out)
        throw new OrreryError('not_found', `SAE ${from.saeId} has no feature ${out.feature}`);
      const draft = await carryDials(input.dials, {
        toSae: to.saeId,
        matches: (f) => featureMatches(db, input.from, f),
        sourceRange: (f) => this.ranges(from.packId, from.saeId, f),
        targetRange: (f) => this.ranges(to.packId, to.saeId, f),
      });
      return { from, to, method: state.method, sharedAt: state.sharedAt, ...draft };
    } finally {
      db.close();
    }
  }
}
