/** The sizes exports are made at (exports.ts has their schemas; this module has no zod). */

/** The sizes the export dialog offers (the long side, in pixels). */
export const EXPORT_SIZES = [256, 512, 1024, 2048] as const;
/** The long side of a sweep's frames; a strip of six 1024 px frames is 6144 px wide. */
export const SWEEP_MAX_SIZE = 1024;
