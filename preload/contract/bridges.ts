/**
 * Schemas of the bridge calls: a bridge between two SAEs (main/bridge) matches each feature of
 * one to its best features on the other, by decoder cosine (same stream), by correlation of
 * activations over the first pack's examples, or (two text models with one tokenizer, when
 * asked) by the cosine of their effects on the logits; built by a job, read one feature at a time.
 * A pair keeps two bridges at most, the effect one and the default one: a read may name the
 * method; without one it reads the default bridge when it is built, else the effect bridge.
 */
import { z } from 'zod';
import { IdSchema, JobIdSchema } from './schemas';
export { BRIDGE_BEST_STATUS } from './bridgeStatus';

const typedArray = <T>(ctor: abstract new (...args: never[]) => unknown, name: string) =>
  z.custom<T>((v) => v instanceof ctor, `must be a ${name}`);

const SaeRef = z.object({ packId: IdSchema, saeId: IdSchema }).strict();

const BridgeRef = { a: SaeRef, b: SaeRef };

export const BridgeMethodSchema = z.enum(['decoder', 'correlation', 'effect']);

/** Which of the pair's bridges a read means (absent: the default one when built, else effect). */
const ReadMethod = { method: BridgeMethodSchema.optional() };

export const bridgeInputs = {
  status: z.object({ ...BridgeRef, ...ReadMethod }).strict(),
  build: z
    .object({
      ...BridgeRef,
      /** Default: decoder cosine for two SAEs on one hook of one model, else correlation;
       * 'effect' only when asked. */
      method: BridgeMethodSchema.optional(),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
  matches: z
    .object({
      ...BridgeRef,
      ...ReadMethod,
      /** Which side the feature is on; its matches are on the other. */
      side: z.enum(['a', 'b']),
      feature: z.number().int().nonnegative(),
    })
    .strict(),
  best: z
    .object({
      ...BridgeRef,
      ...ReadMethod,
      /** Whose features: their best matches are on the other side. */
      side: z.enum(['a', 'b']),
    })
    .strict(),
};

export const BridgeStatusSchema = z.object({
  built: z.boolean(),
  file: z.string(),
  /** The method of the bridge read (or being built there); null when there is none. */
  method: BridgeMethodSchema.nullable(),
  /** The methods of the pair's built bridges (the default one's, effect). */
  builtMethods: z.array(BridgeMethodSchema),
  /** The methods the pair can be built by: its default (decoder cosine on one stream, else
   * correlation), and 'effect' when both sides are text models with one tokenizer. */
  methods: z.array(BridgeMethodSchema),
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

/** Every feature of one side at once, as typed arrays (binary frames on the wire). */
export const BridgeBestSchema = z.object({
  side: z.enum(['a', 'b']),
  sharedAt: z.number(),
  method: BridgeMethodSchema,
  other: SaeRef,
  /** [dSae of this side]: each feature's best match on the other side, −1 for none. */
  best: typedArray<Int32Array<ArrayBufferLike>>(Int32Array, 'Int32Array'),
  /** [dSae]: that match's score, NaN for none. */
  score: typedArray<Float32Array<ArrayBufferLike>>(Float32Array, 'Float32Array'),
  /** [dSae]: BRIDGE_BEST_STATUS code (specific, shared, silent: never fired on the corpus). */
  status: typedArray<Uint8Array<ArrayBufferLike>>(Uint8Array, 'Uint8Array'),
});
