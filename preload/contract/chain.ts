/**
 * bridge.chain: a feature followed through the layers of its model, from the SAE it belongs to
 * through the bridges built between consecutive SAEs of the pack (ordered by hook depth), best
 * match by best match, in both directions (main/bridge/chain.ts). Pure: zod only.
 */
import { z } from 'zod';
import { IdSchema } from './schemas';

export const chainInput = z
  .object({
    packId: IdSchema,
    saeId: IdSchema,
    feature: z.number().int().nonnegative(),
  })
  .strict();

export const ChainSchema = z.object({
  /** shallowest layer first; the asked feature is the link whose score is null */
  links: z.array(
    z.object({
      saeId: z.string(),
      hook: z.string(),
      feature: z.number().int().nonnegative(),
      /** its title in that SAE's index (null when the index is not built) */
      label: z.string().nullable(),
      /** the match that led here from the neighbouring link nearer the start (r or cosine) */
      score: z.number().nullable(),
      status: z.enum(['shared', 'specific']).nullable(),
    }),
  ),
  /** where the walk stopped: no bridge built to the next SAE, a silent feature, no match */
  stops: z.array(
    z.object({
      saeId: z.string(),
      toward: z.string(),
      why: z.enum(['no bridge', 'silent', 'no match']),
    }),
  ),
  /** the pack's SAEs in layer order (those whose hook names a block) */
  saes: z.array(z.object({ saeId: z.string(), hook: z.string() })),
});
