/**
 * Paths a pack manifest names (PACK_FORMAT.md): relative to the pack folder, or absolute for
 * library entries. Without the manifest's schemas, for threads that only read files.
 */
/** True when a manifest path leaves the pack folder (an absolute path). */
export function isAbsolutePackPath(p: string): boolean {
  return /^(\/|[A-Za-z]:[\\/])/.test(p);
}

/** A path a manifest names, as a file path: relative ones inside the pack folder. */
export function packFile(packDir: string, p: string): string {
  return isAbsolutePackPath(p) ? p : `${packDir.replace(/[\\/]+$/, '')}/${p}`;
}
