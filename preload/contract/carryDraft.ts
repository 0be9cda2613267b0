/**
 * bridge.carry: dials (a preset's, or the page's current ones) on one side of a built bridge
 * mapped to the other side, each to its best match, its strength rescaled by the two features'
 * ranges (main/bridge/carry.ts). The reply is a draft the person edits, then runs on the other
 * side with `carried` (carry.ts) so the step keeps the mapping. Pure: zod only.
 */
import { z } from 'zod';
import { CarriedMethodSchema, SaeRefSchema } from './carry';
import { DialSchema, DialsSchema } from './runtime';

export const carryInput = z
  .object({
    a: SaeRefSchema,
    b: SaeRefSchema,
    /** The side the dials are on; they are carried to the other. */
    from: z.enum(['a', 'b']),
    dials: DialsSchema.min(1),
    /** Which of the pair's bridges (absent: the default one when built, else effect). */
    method: CarriedMethodSchema.optional(),
  })
  .strict();

export const CarryDraftSchema = z.object({
  from: SaeRefSchema,
  to: SaeRefSchema,
  method: CarriedMethodSchema,
  sharedAt: z.number(),
  rows: z.array(
    z.object({
      source: DialSchema,
      sourceLabel: z.string().nullable(),
      feature: z.number().int().nonnegative(),
      label: z.string().nullable(),
      score: z.number(),
      /** shared: the match scores at least sharedAt; specific: a weaker best match. */
      status: z.enum(['shared', 'specific']),
      /** the dial on the other side, at the rescaled strength */
      dial: DialSchema,
      /** what the strength was rescaled by: both features' calibrated 1× ('typical'), else
       * their max activations ('max'); a scale dial keeps its factor ('factor'). */
      scaledBy: z.enum(['typical', 'max', 'factor']),
    }),
  ),
  /** Source dials that were not carried, and why (silent, no match, a composite dial). */
  unmatched: z.array(z.object({ source: DialSchema, reason: z.string() })),
});
