/**
 * Following a feature through the layers for the API (bridge.chain): the pack's SAEs in layer
 * order, the built bridges between consecutive ones (either orientation), and each link's title
 * from its SAE's index (main/bridge/chain.ts). This class only checks inputs and routes calls.
 */
import type { z } from 'zod';
import { OrreryError } from '../../preload/contract';
import type { ChainSchema, chainInput } from '../../preload/contract/chain';
import { followChain, hookDepth, layeredSaes, type LayeredSae } from '../bridge/chain';
import { openBuiltBridge } from '../bridge/opened';
import { featureMatches } from '../bridge/read';
import type { PackService } from '../packs/packService';

type Chain = z.output<typeof ChainSchema>;

/** A feature's title in its SAE's index, or null when there is none. */
export type FeatureTitle = (
  packId: string,
  saeId: string,
  feature: number,
) => Promise<string | null>;

export class ChainService {
  constructor(
    private readonly packs: PackService,
    private readonly indexDir: string,
    private readonly title: FeatureTitle,
  ) {}

  async chain(input: z.output<typeof chainInput>): Promise<Chain> {
    const { pack } = await this.packs.find(input.packId);
    const all = pack.saes.map((s) => ({ saeId: s.id, hook: s.hook }));
    const start = all.find((s) => s.saeId === input.saeId);
    if (!start)
      throw new OrreryError('not_found', `pack ${input.packId} has no SAE ${input.saeId}`);
    if (hookDepth(start.hook) === null)
      throw new OrreryError(
        'bad_input',
        `SAE ${start.saeId} reads ${start.hook}, which names no layer of the model`,
      );
    const saes = layeredSaes(all);
    const ref = (s: LayeredSae) => ({ packId: input.packId, saeId: s.saeId });
    const step = (from: LayeredSae, to: LayeredSae, feature: number) => {
      for (const [a, b, side] of [
        [from, to, 'a'],
        [to, from, 'b'],
      ] as const) {
        const open = openBuiltBridge(this.indexDir, ref(a), ref(b));
        if (!open) continue;
        try {
          const d = side === 'a' ? open.state.a.dSae : open.state.b.dSae;
          if (feature >= d)
            throw new OrreryError('not_found', `SAE ${from.saeId} has no feature ${feature}`);
          return featureMatches(open.db, side, feature);
        } finally {
          open.db.close();
        }
      }
      return null;
    };
    const chain = followChain(saes, start, input.feature, step);
    const links = await Promise.all(
      chain.links.map(async (l) => ({
        ...l,
        label: await this.title(input.packId, l.saeId, l.feature).catch(() => null),
      })),
    );
    return { links, stops: chain.stops, saes };
  }
}
