/**
 * Selections that act: a set of features (from a lasso, a cluster, a search, or "more like
 * these") ranked by their activation on the current input, the features that separate chosen
 * examples from others, and selections saved by name.
 */
import { z } from 'zod';
import { CompositeMemberSchema, ImageSourceSchema } from './runtime';
import { IdSchema } from './schemas';

/** The most features one selection (or one activations call) may name. */
export const MAX_SELECTION = 100_000;

const FeatureIdSchema = z.number().int().nonnegative().max(10_000_000);

/**
 * One input a pack reads: a text (text packs: the prompt or a person's own text) or a source:
 * a pack example (every kind), or an uploaded picture / face (image and typeface packs).
 */
export const SelectionInputSchema = z.union([
  z.object({ text: z.string().min(1).max(20_000) }).strict(),
  z.object({ source: ImageSourceSchema }).strict(),
]);
export type SelectionInput = z.infer<typeof SelectionInputSchema>;

export const selectionInputs = {
  activations: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      input: SelectionInputSchema,
      features: z.array(FeatureIdSchema).min(1).max(MAX_SELECTION),
      /** how many of the ranked features come back (the strongest first) */
      limit: z.number().int().min(1).max(5000).default(500),
    })
    .strict(),
  separate: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      /** the examples to move towards */
      like: z.array(SelectionInputSchema).min(1).max(32),
      /** the examples to move away from; none = the pack's corpus (a fixed sample of it) */
      away: z.array(SelectionInputSchema).max(32).default([]),
      /** how many separating features come back */
      top: z.number().int().min(1).max(256).default(12),
    })
    .strict(),
  save: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      name: z.string().trim().min(1).max(200),
      features: z.array(FeatureIdSchema).min(1).max(MAX_SELECTION),
      /** member weights of its composite dial, when it has one */
      members: z.array(CompositeMemberSchema).max(4096).optional(),
      origin: z.enum(['lasso', 'cluster', 'search', 'like']),
    })
    .strict(),
  list: z.object({ packId: IdSchema }).strict(),
  remove: z.object({ packId: IdSchema, name: z.string().min(1).max(200) }).strict(),
};

/** A feature of a selection on the current input: its strongest and mean activation. */
export const RankedFeatureSchema = z.object({
  feature: z.number().int(),
  /** the strongest activation over the input's rows (tokens, positions or the one latent) */
  max: z.number(),
  /** the mean over the rows */
  mean: z.number(),
});

export const ActivationsOutput = z.object({
  /** the selection's features, strongest first (at most `limit` of them) */
  ranked: z.array(RankedFeatureSchema),
  /** how many of the selection's features are active (> 0) anywhere on the input */
  active: z.number().int(),
  /** how many distinct features the selection has */
  total: z.number().int(),
  /** rows the input gave (tokens without BOS, spatial positions, or 1) */
  rows: z.number().int(),
});

export const SeparateOutput = z.object({
  /** the features whose mean activation is higher on `like` than on the baseline, most first */
  features: z.array(
    z.object({
      feature: z.number().int(),
      /** mean activation over the `like` examples (each example the mean over its rows) */
      like: z.number(),
      /** the same over the baseline */
      away: z.number(),
      /** like − away */
      score: z.number(),
    }),
  ),
  /** what `away` was: the examples given, or a fixed sample of the pack's own examples */
  baseline: z.enum(['away', 'corpus']),
  /** how many examples the baseline averaged */
  baselineExamples: z.number().int(),
  /** a composite dial's typical strength: the score-weighted mean of the members' `like` */
  typical: z.number(),
});

export const SavedSelectionSchema = z.object({
  packId: z.string(),
  saeId: z.string(),
  name: z.string(),
  features: z.array(z.number().int()),
  members: z.array(CompositeMemberSchema).nullable(),
  origin: z.enum(['lasso', 'cluster', 'search', 'like']),
  createdAt: z.string(),
});
export type SavedSelection = z.infer<typeof SavedSelectionSchema>;
