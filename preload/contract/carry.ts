/**
 * What a step keeps when its dials were carried across a bridge (bridge.carry, then a run on the
 * other side): the two SAEs, how the bridge scores, and for each carried dial its source feature
 * and strength, the matched feature with its score, and the strength it ran at. A run's input
 * carries it as `carried`; the session step keeps it with the input. Pure: zod only.
 */
import { z } from 'zod';
import { IdSchema } from './schemas';

export const SaeRefSchema = z.object({ packId: IdSchema, saeId: IdSchema }).strict();

/** How the bridge scored the pairs (as bridges.ts's BridgeMethodSchema). */
export const CarriedMethodSchema = z.enum(['decoder', 'correlation', 'effect']);

export const CarriedRowSchema = z
  .object({
    sourceFeature: z.number().int().nonnegative(),
    sourceValue: z.number().finite(),
    sourceLabel: z.string().max(200).nullable(),
    feature: z.number().int().nonnegative(),
    label: z.string().max(200).nullable(),
    /** the bridge's score of the pair (decoder or effect cosine, or Pearson r) */
    score: z.number().finite().min(-1).max(1),
    /** the strength the carried dial ran at (the person may have edited the draft's) */
    value: z.number().finite(),
  })
  .strict();

export const CarriedSchema = z
  .object({
    from: SaeRefSchema,
    to: SaeRefSchema,
    method: CarriedMethodSchema,
    rows: z.array(CarriedRowSchema).max(256),
  })
  .strict();
export type Carried = z.infer<typeof CarriedSchema>;
