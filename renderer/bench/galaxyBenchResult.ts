/** What one run of the galaxy bench page reports (shared by the page and bench/galaxy.ts). */
export interface GalaxyBenchResult {
  /** Synthetic points. */
  points: number;
  /** Points pass 0 drew at the home view (level of detail). */
  drawn: number;
  /** Milliseconds per frame (GPU finished): the star field, the same with every point drawn, bare THREE.Points. */
  galaxyMs: number;
  fullMs: number;
  bareMs: number;
  /** CPU hover pick over the grid: median and worst of a sweep, points tested at most, hits. */
  pickMs: number;
  pickMaxMs: number;
  pickTested: number;
  picked: number;
  /** Worker: positions sent, grid built and received (ms). */
  gridMs: number;
  /** StarField construction (look bytes, LOD order) and making the map. */
  fieldMs: number;
  synthMs: number;
  selectMs: number;
  lasso: { name: string; wallMs: number; workerMs: number; hits: number }[];
  /** performance.memory.usedJSHeapSize after the run (chromium), or null. */
  heapBytes: number | null;
}
