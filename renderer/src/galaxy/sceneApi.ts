/** What the DOM layers (lasso, hover, keyboard) may ask of the three.js scene. */
export interface SceneApi {
  /** The star under a point in CSS pixels of the canvas, or null. */
  pick(x: number, y: number): number | null;
  /** Projection × view of the current camera, 16 numbers column-major. */
  viewProjection(): number[];
  /** The canvas size in CSS pixels. */
  size(): { width: number; height: number };
  /** The orbit target, where the camera looks. */
  target(): [number, number, number];
  /** Whether a fly-to animation is running. */
  flying(): boolean;
  /** Frames drawn so far. */
  frames(): number;
}

export type SceneApiRef = { current: SceneApi | null };
