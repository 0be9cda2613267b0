/**
 * The Orrery API: every call and event, with its schemas. Main validates every payload
 * against these before it reaches a service; the preload and the WebSocket client are
 * typed by them. Pure module: zod only, no Node, no DOM.
 */
import { z } from 'zod';
import { NoticeListSchema, NoticeSchema } from './notices';
import { ImageOutput, TextTokenEventSchema } from './runtime';
import { ImageSweepEventSchema, imageSweepInput, ImageSweepOutput } from './sweep';
import {
  ImageReplySchema,
  PresetSchema,
  RecipeSchema,
  SessionDetailSchema,
  SessionSchema,
  StepSchema,
  TextReplySchema,
  sessionInputs,
} from './sessions';
import {
  CorporaSchema,
  FeatureCardSchema,
  FeatureMapSchema,
  FeatureTitleSchema,
  featureInputs,
  ImportLabelsReportSchema,
  DashboardImportReportSchema,
  IndexStatusSchema,
  SearchHitSchema,
} from './features';
import { ChosenSchema, FileListingSchema, fileInputs } from './files';
import { ExportFileSchema, exportInputs } from './exports';
import { AddedSaesSchema, ModelInspectionSchema, modelInputs, OpenedModelSchema } from './models';
import { CarryDraftSchema, carryInput } from './carryDraft';
import { ChainSchema, chainInput } from './chain';
import { BridgeBestSchema, BridgeMatchesSchema, BridgeStatusSchema, bridgeInputs } from './bridges';
import {
  ActivationsOutput,
  SavedSelectionSchema,
  selectionInputs,
  SeparateOutput,
} from './selections';
import { bytesSchema } from './binarySchemas';
import {
  BlobHashSchema,
  BlobRefSchema,
  EmptySchema,
  HealthSchema,
  IdSchema,
  JobIdSchema,
  PackListSchema,
  PackSummarySchema,
  PathSchema,
  ProgressSchema,
} from './schemas';
import {
  ActiveOutput,
  EffectStripOutput,
  effectStripInput,
  RuntimeInfoSchema,
  runtimeInputs,
} from './runtime';

const call = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O, doc: string) => ({
  input,
  output,
  doc,
  long: false,
});

/** A long call: its input may carry a `jobId`; it reports progress and can be cancelled. */
const longCall = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O, doc: string) => ({
  input,
  output,
  doc,
  long: true,
});

export const calls = {
  'app.health': call(
    EmptySchema,
    HealthSchema,
    'Runtime health: onnxruntime version and a tiny real inference; SQLite version and FTS5.',
  ),
  'app.notices': call(
    EmptySchema,
    NoticeListSchema,
    'What the person should know since the app started (e.g. a damaged database moved aside and replaced).',
  ),
  'packs.list': call(
    EmptySchema,
    PackListSchema,
    'Model packs under models/ and in the library folder, with the problems of bad ones.',
  ),
  'packs.import': longCall(
    z.object({ from: PathSchema, jobId: JobIdSchema.optional() }).strict(),
    PackSummarySchema,
    'Copy a pack folder into the library after validating it; reports progress; cancellable.',
  ),
  'packs.remove': call(
    z.object({ id: IdSchema }).strict(),
    z.object({ removed: z.boolean() }),
    'Remove an imported pack from the library (bundled packs cannot be removed).',
  ),
  'models.inspect': call(
    modelInputs.inspect,
    ModelInspectionSchema,
    'What a Hugging Face model folder holds (architecture, layers, tokenizer, graph, size, the hooks it exposes), each SAE folder’s hook and sizes with any mismatch, and a Neuronpedia export’s features.',
  ),
  'models.open': longCall(
    modelInputs.open,
    OpenedModelSchema,
    'Open a Hugging Face model folder with its SAEs as a library entry that names the folders in place (nothing copied), then fill its index from a Neuronpedia export or build it; reports progress; cancellable.',
  ),
  'models.addSae': longCall(
    modelInputs.addSae,
    AddedSaesSchema,
    'Attach more SAELens SAE folders to a model opened in place (each checked: a hook the model exposes, d_in its width), then build each new SAE’s index; a failure leaves the entry as it was; reports progress; cancellable.',
  ),
  'blobs.put': call(
    z.object({ bytes: bytesSchema, name: z.string().max(512).optional() }).strict(),
    BlobRefSchema,
    'Keep a file the person opened (an image or a font) once, as bytes; later calls name it by the returned hash.',
  ),
  'blobs.get': call(
    z.object({ hash: BlobHashSchema }).strict(),
    z.object({ bytes: bytesSchema }),
    'The bytes of a kept file or output, by hash.',
  ),
  'blobs.collect': call(
    EmptySchema,
    z.object({
      kept: z.number().int(),
      keptBytes: z.number().int(),
      removed: z.number().int(),
      freedBytes: z.number().int(),
    }),
    'Delete kept files and outputs that no session step names and that were not used in the last day (also run once shortly after start); what stayed and what was freed.',
  ),
  'runtime.open': call(
    runtimeInputs.open,
    RuntimeInfoSchema,
    'Load a pack into the inference worker (ONNX sessions, SAEs, tokenizer) and describe it.',
  ),
  'text.generate': longCall(
    runtimeInputs.textGenerate,
    TextReplySchema,
    'Generate before (dials at rest) and after (dials applied) from one prompt, same seed; tokens stream as text.token events.',
  ),
  'text.active': call(
    runtimeInputs.textActive,
    ActiveOutput,
    'The top active SAE features for each token of a prompt.',
  ),
  'image.steer': longCall(
    runtimeInputs.imageSteer,
    ImageReplySchema,
    'Encode an image (a pack example or a PNG/JPEG/WebP), steer its latent or spatial map with dials, decode before and after.',
  ),
  'image.sweep': longCall(
    imageSweepInput,
    ImageSweepOutput,
    'A dial drag’s frames: the image with one dial at each of the given values (the other dials fixed), streamed as image.sweep events of raw RGBA with their metrics, in the order given; nothing is saved.',
  ),
  'image.active': call(
    runtimeInputs.imageActive,
    ActiveOutput,
    'The top active SAE features of an image (per spatial position for a spatial hook).',
  ),
  'glyph.specimen': longCall(
    runtimeInputs.glyphSpecimen,
    ImageReplySchema,
    'Render a specimen (a word or characters) in a style read from a pack face or a font file, before and after the dials.',
  ),
  'runtime.effectStrip': call(
    effectStripInput,
    EffectStripOutput,
    'A feature’s effect strip: the current input at −2×, 0, +1×, +2×, +4× its typical activation (pictures as raw RGBA, text as the changed words); computed in the inference worker once and cached.',
  ),
  'selection.activations': call(
    selectionInputs.activations,
    ActivationsOutput,
    'A selection’s features ranked by their activation on one input (strongest over its tokens or positions, then the mean); computed in the inference worker.',
  ),
  'selection.separate': call(
    selectionInputs.separate,
    SeparateOutput,
    '“More like these”: the features whose mean activation is higher on the chosen examples than on the ones to move away from (or on a fixed sample of the pack’s examples); computed in the inference worker.',
  ),
  'selection.save': call(
    selectionInputs.save,
    SavedSelectionSchema,
    'Save a selection of features (and its composite dial’s member weights) under a name; a name already used in the pack is replaced.',
  ),
  'selection.list': call(
    selectionInputs.list,
    z.array(SavedSelectionSchema),
    'The saved selections of a pack, by name.',
  ),
  'selection.remove': call(
    selectionInputs.remove,
    z.object({ removed: z.boolean() }),
    'Delete a saved selection.',
  ),
  'export.image': call(
    exportInputs.image,
    ExportFileSchema,
    'A picture (raw RGBA) as a PNG scaled with the Lanczos-3 filter so its long side is the chosen size.',
  ),
  'export.sweep': longCall(
    exportInputs.sweep,
    ExportFileSchema,
    'One dial swept from −2× to +4× its typical activation (and its calibrated limit): a strip of pictures (PNG), an animated WebP or GIF played there and back, or text with the changed words marked.',
  ),
  'export.text': call(
    exportInputs.text,
    ExportFileSchema,
    'A text run as a file: the continuation with the words the dials added {+marked+} and removed [-marked-], then before and after.',
  ),
  'index.corpora': call(
    featureInputs.corpora,
    CorporaSchema,
    'The folders of the person’s own examples that a pack has an index over (beside its own).',
  ),
  'index.status': call(
    featureInputs.status,
    IndexStatusSchema,
    'Whether the feature index of an SAE of a pack is built, and its size.',
  ),
  'index.build': longCall(
    featureInputs.build,
    IndexStatusSchema,
    'Build (or resume building) the feature index of an SAE over the pack’s own examples; reports progress; cancellable.',
  ),
  'bridge.status': call(
    bridgeInputs.status,
    BridgeStatusSchema,
    'Whether the bridge between two SAEs is built, how it scores, and the share of shared features on each side.',
  ),
  'bridge.build': longCall(
    bridgeInputs.build,
    BridgeStatusSchema,
    'Build (or resume) the bridge between two SAEs: each feature’s best matches on the other side, by decoder cosine or by correlation over the first pack’s examples; reports progress; cancellable.',
  ),
  'bridge.matches': call(
    bridgeInputs.matches,
    BridgeMatchesSchema,
    'One feature’s best matches on the other side of a built bridge, with scores, and whether it is shared or specific.',
  ),
  'bridge.chain': call(
    chainInput,
    ChainSchema,
    'A feature followed through the layers: from its SAE, its best match in the next deeper SAE of the pack, that one’s in the next, and back towards the input, through the bridges built between consecutive SAEs; with each link’s score and title, and where the walk stopped.',
  ),
  'bridge.carry': call(
    carryInput,
    CarryDraftSchema,
    'Carry dials (a preset’s or the current ones) across a built bridge: each to its best match on the other side, its strength rescaled by the two features’ calibrated or max activations; a draft to edit and run there with `carried`.',
  ),
  'bridge.best': call(
    bridgeInputs.best,
    BridgeBestSchema,
    'Every feature of one side of a built bridge at once: its best match on the other side, the score and whether it is shared, specific or silent (typed arrays).',
  ),
  'index.map': call(
    featureInputs.map,
    FeatureMapSchema,
    'The 3D map of an SAE’s features: positions, density and cluster as typed arrays, and cluster labels.',
  ),
  'index.search': call(
    featureInputs.search,
    z.object({ hits: z.array(SearchHitSchema) }),
    'Full-text search over labels, notes and top tokens, with filters.',
  ),
  'index.feature': call(
    featureInputs.feature,
    FeatureCardSchema,
    'A feature card: stats, histogram, top examples, logit lens, neighbours.',
  ),
  'index.titles': call(
    featureInputs.titles,
    z.object({ titles: z.array(FeatureTitleSchema) }),
    'The labels and effect words of a list of features (a selection’s rows), in one read, without their cards; features the SAE does not have are left out.',
  ),
  'index.rename': call(
    featureInputs.rename,
    FeatureCardSchema,
    'Rename a feature or write notes; kept across rebuilds.',
  ),
  'index.importLabels': longCall(
    featureInputs.importLabels,
    ImportLabelsReportSchema,
    'Import feature labels from a Neuronpedia explanations export (a file path); a rename still wins; kept across rebuilds.',
  ),
  'index.importDashboards': longCall(
    featureInputs.importDashboards,
    DashboardImportReportSchema,
    'Import Neuronpedia dashboards (an export folder or one feature’s JSON): density, max activation, histogram, logit lens, top activation records, explanations with their explainer, and the export’s UMAP as the galaxy when it has one; reports progress; cancellable; a rename still wins.',
  ),
  'index.exportNeuronpedia': longCall(
    featureInputs.exportNeuronpedia,
    ExportFileSchema,
    'A selection of features (or all) as a Neuronpedia export folder (features/, activations/, explanations/batch-N.jsonl.gz, source.jsonl), zipped.',
  ),
  'index.exportMap': call(
    featureInputs.exportMap,
    ExportFileSchema,
    'The galaxy as CSV: x, y, z, index, title, cluster, density (Latent Scope / embedding-atlas).',
  ),
  'sessions.create': call(sessionInputs.create, SessionSchema, 'Start a session for a pack.'),
  'sessions.list': call(sessionInputs.list, z.array(SessionSchema), 'Sessions, newest first.'),
  'sessions.get': call(sessionInputs.get, SessionDetailSchema, 'A session with all its steps.'),
  'sessions.undo': call(
    sessionInputs.undo,
    SessionDetailSchema,
    'Make the current step’s parent current.',
  ),
  'sessions.redo': call(
    sessionInputs.redo,
    SessionDetailSchema,
    'Make the newest child of the current step current.',
  ),
  'sessions.checkout': call(
    sessionInputs.checkout,
    SessionDetailSchema,
    'Make any step current (a later run branches from it).',
  ),
  'sessions.rename': call(sessionInputs.rename, SessionSchema, 'Rename a session.'),
  'sessions.renameStep': call(
    sessionInputs.renameStep,
    StepSchema,
    'Name a step of a session (an empty name takes it away).',
  ),
  'sessions.setDials': call(
    sessionInputs.setDials,
    z.object({ saved: z.boolean() }),
    'Keep the page’s list of dials with a session (added dials not yet moved included).',
  ),
  'sessions.remove': call(
    sessionInputs.remove,
    z.object({ removed: z.boolean() }),
    'Delete a session.',
  ),
  'sessions.exportRecipe': call(
    sessionInputs.exportRecipe,
    RecipeSchema,
    'A session as a JSON recipe (inputs and dials of every step).',
  ),
  'sessions.importRecipe': call(
    sessionInputs.importRecipe,
    SessionDetailSchema,
    'A new session from a JSON recipe.',
  ),
  'presets.save': call(
    sessionInputs.savePreset,
    PresetSchema,
    'Save dials as a named preset of a pack.',
  ),
  'presets.list': call(sessionInputs.listPresets, z.array(PresetSchema), 'The presets of a pack.'),
  'presets.remove': call(
    sessionInputs.removePreset,
    z.object({ removed: z.boolean() }),
    'Delete a preset.',
  ),
  'files.list': call(
    fileInputs.list,
    FileListingSchema,
    'The folder picker: the allowed roots (no dir), or the folders and files of a folder inside one; anything else is forbidden.',
  ),
  'files.choose': call(
    fileInputs.choose,
    ChosenSchema,
    'Desktop only: the system file dialog; the picked path is granted for its use. Served: unavailable (use files.list).',
  ),
  'jobs.cancel': call(
    z.object({ jobId: JobIdSchema }).strict(),
    z.object({ cancelled: z.boolean() }),
    'Cancel a running job; its call then fails with code "cancelled".',
  ),
} as const;

/**
 * An image or specimen run's pixels the moment the inference worker has them, for the page
 * that runs the job: its reply follows once the run's step is saved (issue 14: the new image
 * is on screen without waiting for the session write).
 */
export const ImageFrameEventSchema = ImageOutput.extend({ jobId: JobIdSchema });
export type ImageFrameEvent = z.infer<typeof ImageFrameEventSchema>;

export const events = {
  'job.progress': ProgressSchema,
  'text.token': TextTokenEventSchema,
  'image.frame': ImageFrameEventSchema,
  'image.sweep': ImageSweepEventSchema,
  'app.notice': NoticeSchema,
} as const;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export type CallInput<K extends CallName> = z.input<Calls[K]['input']>;
export type CallOutput<K extends CallName> = z.output<Calls[K]['output']>;
export type EventName = keyof typeof events;
export type EventPayload<K extends EventName> = z.output<(typeof events)[K]>;

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(calls, name);
}
