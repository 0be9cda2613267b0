/**
 * Schemas of the bridge calls: a bridge between two SAEs (main/bridge) matches each feature of
 * one to its best features on the other, by decoder cosine (same stream) or by correlation of
 * activations over the first pack's examples; built by a job, read one feature at a time.
 */
import { z } from 'zod';
import { IdSchema, JobIdSchema } from './schemas';

const SaeRef = z.object({ packId: IdSchema, saeId: IdSchema }).strict();

const BridgeRef = { a: SaeRef, b: SaeRef };

export const BridgeMethodSchema = z.enum(['decoder', 'correlation']);

export const bridgeInputs = {
  status: z.object(BridgeRef).strict(),
  build: z
    .object({
      ...BridgeRef,
      /** Default: decoder cosine for two SAEs on one hook of one model, else correlation. */
      method: BridgeMethodSchema.optional(),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
  matches: z
    .object({
      ...BridgeRef,
      /** Which side the feature is on; its matches are on the other. */
      side: z.enum(['a', 'b']),
      feature: z.number().int().nonnegative(),
    })
    .strict(),
};

export const BridgeStatusSchema = z.object({
  built: z.boolean(),
  file: z.string(),
  method: BridgeMethodSchema.nullable(),
  /** What a sample is: 'decoder direction', 'token span', 'example'; '' before a build. */
  unit: z.string(),
  samples: z.number().int().nonnegative(),
  featuresA: z.number().int().nonnegative(),
  featuresB: z.number().int().nonnegative(),
  /** Share of each side's live features whose best match scores at least sharedAt. */
  sharedA: z.number().min(0).max(1),
  sharedB: z.number().min(0).max(1),
  sharedAt: z.number(),
});

export const BridgeMatchesSchema = z.object({
  side: z.enum(['a', 'b']),
  feature: z.number().int().nonnegative(),
  /** shared: best match ≥ sharedAt; specific: below; silent: never fired on the corpus. */
  status: z.enum(['shared', 'specific', 'silent']),
  sharedAt: z.number(),
  method: BridgeMethodSchema,
  /** The other side's pack and SAE, where the matches are. */
  other: SaeRef,
  matches: z.array(z.object({ feature: z.number().int().nonnegative(), score: z.number() })),
});
