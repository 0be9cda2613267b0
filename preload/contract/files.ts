/**
 * Schemas of the file calls: the served folder picker (`files.list`) and the desktop's system
 * file dialog (`files.choose`). The page never reads a path it was not given: served, it
 * browses only the roots the person allowed (`--allow`); on the desktop, a path the person
 * picks in the system dialog is granted for the use it was picked for. Pure: zod only.
 */
import { z } from 'zod';
import { PathSchema } from './schemas';

/** What a path is for; a desktop grant holds for its use only ('model': the folders "Open
 * model…" names: a model, SAEs, a Neuronpedia export, texts). */
export const PathUseSchema = z.enum(['pack', 'corpus', 'labels', 'model']);
export type PathUse = z.infer<typeof PathUseSchema>;

export const FileEntrySchema = z.object({
  name: z.string(),
  /** The full path, as later calls take it. */
  path: z.string(),
  kind: z.enum(['dir', 'file']),
  /** Bytes of a file; 0 for a folder. */
  size: z.number().int().nonnegative(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const FileListingSchema = z.object({
  /** The folder listed; null for the list of allowed roots. */
  dir: z.string().nullable(),
  /** The folder above, or null when `dir` is a root (go back to the roots) or absent. */
  parent: z.string().nullable(),
  entries: z.array(FileEntrySchema),
  /** True when the folder held more entries than the limit (listEntries) and some were left out. */
  truncated: z.boolean(),
});
export type FileListing = z.infer<typeof FileListingSchema>;

export const fileInputs = {
  list: z.object({ dir: PathSchema.optional() }).strict(),
  choose: z
    .object({
      use: PathUseSchema,
      /** A folder (pack folder, examples folder) or a file (a pack .zip, a label export). */
      kind: z.enum(['dir', 'file']),
      title: z.string().max(200).optional(),
    })
    .strict(),
};

export const ChosenSchema = z.object({
  /** The path the person picked, now granted for `use`; null when the dialog was cancelled. */
  path: z.string().nullable(),
});
