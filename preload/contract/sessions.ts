/**
 * Sessions: every run is a step (input, dials, outputs) saved as it happens; history with
 * undo and redo, branches, reopen, export as a JSON recipe and import; presets of dials.
 */
import { z } from 'zod';
import { DialSchema, DialsSchema, ImageOutput, TextGenerateOutput } from './runtime';
import { BlobHashSchema, IdSchema } from './schemas';

/**
 * A dial of the page's list (sessions.setDials): a steering dial and whether the person muted
 * it. A muted dial keeps the value it will come back to; an unmuted one is kept at rest (its
 * values are the steps'). Never a steering input: the runtime takes DialSchema, without mute.
 */
export const ListedDialSchema = DialSchema.extend({ muted: z.boolean().optional() }).strict();
export type ListedDial = z.infer<typeof ListedDialSchema>;
export const ListedDialsSchema = z.array(ListedDialSchema).max(256);

export const StepKindSchema = z.enum(['text', 'image', 'glyph']);

export const StepSchema = z.object({
  id: z.number().int(),
  parentId: z.number().int().nullable(),
  kind: StepKindSchema,
  createdAt: z.string(),
  /** The call's input without the pack id and dials: prompt and sampling, image or style source. */
  input: z.record(z.string(), z.unknown()),
  dials: DialsSchema,
  /**
   * What the run gave: text runs as returned; for images and specimens width, height,
   * changed, metrics and the PNGs as blobs by hash (beforeBlob, afterBlob; `blobs.get`).
   */
  output: z.record(z.string(), z.unknown()),
  /** The name the person gave the step (null: none; the history shows what it did). */
  name: z.string().nullable(),
  /**
   * What every step shows in the history, whether current or not: its after-image as a blob
   * (image and typeface steps) or the start of its generated text.
   */
  preview: z.object({ afterBlob: BlobHashSchema.optional(), text: z.string().optional() }),
});
export type Step = z.infer<typeof StepSchema>;

/**
 * A run's reply carries the step it was saved as (null when the call named no session). An
 * image run called with a jobId has sent its pixels in that job's image.frame event as soon as
 * the worker had them, so its reply leaves them out (`framed`): a tick's pixels cross once.
 */
export const ImageShownSchema = ImageOutput.extend({ step: StepSchema.nullable() });
export type ImageShown = z.infer<typeof ImageShownSchema>;
export const ImageFramedReplySchema = ImageOutput.omit({
  before: true,
  after: true,
  heatmap: true,
}).extend({ step: StepSchema.nullable(), framed: z.literal(true) });
export const ImageReplySchema = z.union([ImageShownSchema, ImageFramedReplySchema]);
export const TextReplySchema = TextGenerateOutput.extend({ step: StepSchema.nullable() });

export const SessionSchema = z.object({
  id: IdSchema,
  name: z.string(),
  packId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  headStepId: z.number().int().nullable(),
  steps: z.number().int(),
});
export type Session = z.infer<typeof SessionSchema>;

export const SessionDetailSchema = z.object({
  session: SessionSchema,
  steps: z.array(StepSchema),
  /**
   * The session's list of dials as the page last had it (sessions.setDials), added dials that
   * were never moved included, each at rest; null before any was saved. Steps keep only the
   * dials that ran, so a reopened session takes its names and its unmoved dials from here.
   */
  dials: ListedDialsSchema.nullable().optional(),
});

export const RecipeSchema = z
  .object({
    orrery: z.literal('recipe'),
    version: z.literal(1),
    name: z.string().max(200),
    packId: IdSchema,
    steps: z
      .array(
        z
          .object({
            ref: z.number().int(),
            parent: z.number().int().nullable(),
            kind: StepKindSchema,
            input: z.record(z.string(), z.unknown()),
            dials: DialsSchema,
            name: z.string().max(200).nullable().optional(),
          })
          .strict(),
      )
      .max(10_000),
    head: z.number().int().nullable(),
  })
  .strict();
export type Recipe = z.infer<typeof RecipeSchema>;

export const PresetSchema = z.object({
  packId: z.string(),
  name: z.string(),
  dials: DialsSchema,
  createdAt: z.string(),
});

const SessionRef = z.object({ sessionId: IdSchema }).strict();

export const sessionInputs = {
  create: z.object({ packId: IdSchema, name: z.string().min(1).max(200).optional() }).strict(),
  list: z.object({ packId: IdSchema.optional() }).strict(),
  get: SessionRef,
  undo: SessionRef,
  redo: SessionRef,
  checkout: z.object({ sessionId: IdSchema, stepId: z.number().int().nonnegative() }).strict(),
  rename: z.object({ sessionId: IdSchema, name: z.string().min(1).max(200) }).strict(),
  /** An empty name takes the step's name away. */
  renameStep: z
    .object({
      sessionId: IdSchema,
      stepId: z.number().int().nonnegative(),
      name: z.string().max(200),
    })
    .strict(),
  /** The page's list of dials, each at rest (values are the steps') unless muted. */
  setDials: z.object({ sessionId: IdSchema, dials: ListedDialsSchema }).strict(),
  remove: SessionRef,
  exportRecipe: SessionRef,
  importRecipe: z.object({ recipe: z.unknown() }).strict(),
  savePreset: z
    .object({ packId: IdSchema, name: z.string().min(1).max(200), dials: DialsSchema })
    .strict(),
  listPresets: z.object({ packId: IdSchema }).strict(),
  removePreset: z.object({ packId: IdSchema, name: z.string().min(1).max(200) }).strict(),
};
