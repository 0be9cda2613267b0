/** What one run of the galaxy bench page reports (shared by the page and bench/galaxy.ts). */
export interface GalaxyBenchResult {
  /** Synthetic points drawn. */
  points: number;
  /** Milliseconds per frame (GPU finished) for the galaxy's star field and a bare THREE.Points. */
  galaxyMs: number;
  bareMs: number;
  pickMs: number;
  selectMs: number;
  lassoMs: number;
  lassoWorkerMs: number;
  lassoHits: number;
}
