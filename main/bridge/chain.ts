/**
 * Following a feature through the layers: a pack's SAEs ordered by the depth of the hook they
 * read (blocks.L.hook_resid_pre < attn.hook_z < hook_resid_mid < hook_resid_post < blocks.L+1…),
 * and from one feature its best match in the SAE one step deeper, that one's best match one
 * step deeper again, and so on, and the same towards the input, through the bridges built
 * between consecutive SAEs (either orientation). A step stops at a pair with no built bridge
 * (a gap) or at a feature that never fired on the bridge's corpus or has no match.
 */
import type { FeatureMatches } from './read';

export interface LayeredSae {
  saeId: string;
  hook: string;
}

const PLACES: Record<string, number> = {
  hook_resid_pre: 0,
  'attn.hook_z': 1,
  hook_resid_mid: 2,
  hook_mlp_out: 3,
  hook_resid_post: 4,
};

/** A hook's depth in the model (orders SAEs), or null when its name places it in no block. */
export function hookDepth(hook: string): number | null {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(hook);
  if (!m) return null;
  const place = PLACES[m[2] as string];
  return place === undefined ? null : Number(m[1]) * 8 + place;
}

/** The SAEs with a depth, shallowest first (by id among SAEs at one hook). */
export function layeredSaes<T extends LayeredSae>(saes: readonly T[]): T[] {
  return saes
    .filter((s) => hookDepth(s.hook) !== null)
    .sort(
      (x, y) =>
        (hookDepth(x.hook) as number) - (hookDepth(y.hook) as number) ||
        x.saeId.localeCompare(y.saeId),
    );
}

export interface ChainLink {
  saeId: string;
  hook: string;
  feature: number;
  /** the score of the match that led here from the neighbour nearer the start; null at the start */
  score: number | null;
  /** the status of that match as the neighbour's best (shared or specific); null at the start */
  status: 'shared' | 'specific' | null;
}

export interface Chain {
  /** shallowest first; the start among them */
  links: ChainLink[];
  /** where a walk stopped, and why */
  stops: { saeId: string; toward: string; why: 'no bridge' | 'silent' | 'no match' }[];
}

/** One step's bridge: the start SAE's matches into `to`, or null when no bridge is built. */
export type StepMatches = (
  from: LayeredSae,
  to: LayeredSae,
  feature: number,
) => FeatureMatches | null;

/** The chain of `feature` of `start` through `saes` (layeredSaes' order). */
export function followChain(
  saes: readonly LayeredSae[],
  start: LayeredSae,
  feature: number,
  step: StepMatches,
): Chain {
  const at = saes.findIndex((s) => s.saeId === start.saeId);
  if (at < 0)
    throw new Error(`SAE ${start.saeId} reads ${start.hook}, which places it in no layer`);
  const chain: Chain = {
    links: [{ saeId: start.saeId, hook: start.hook, feature, score: null, status: null }],
    stops: [],
  };
  for (const dir of [1, -1] as const) {
    let cur = saes[at] as LayeredSae;
    let f = feature;
    for (let i = at + dir; i >= 0 && i < saes.length; i += dir) {
      const next = saes[i] as LayeredSae;
      const m = step(cur, next, f);
      const best = m?.matches[0];
      if (!m || m.status === 'silent' || !best) {
        chain.stops.push({
          saeId: cur.saeId,
          toward: next.saeId,
          why: !m ? 'no bridge' : m.status === 'silent' ? 'silent' : 'no match',
        });
        break;
      }
      const link: ChainLink = {
        saeId: next.saeId,
        hook: next.hook,
        feature: best.feature,
        score: best.score,
        status: m.status,
      };
      if (dir === 1) chain.links.push(link);
      else chain.links.unshift(link);
      cur = next;
      f = best.feature;
    }
  }
  return chain;
}
