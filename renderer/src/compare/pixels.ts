/**
 * Drawing outputs from raw pixels. The inference worker sends before, after and the
 * difference heatmap as RGBA bytes with the metrics already computed, so the page only
 * copies bytes into a canvas it keeps (no decode, no read-back, no SSIM here). PNG exists
 * only on demand (export), encoded from a canvas.
 */

export interface RgbaImage {
  /** [height, width, 4] RGBA, 8-bit, row-major. */
  rgba: Uint8Array;
  width: number;
  height: number;
}

/** Per canvas, the ImageData it was last drawn with (reused while the size stays). */
const frames = new WeakMap<HTMLCanvasElement, ImageData>();
/** Per canvas, the bytes it shows (the same array drawn again is skipped). */
const shown = new WeakMap<HTMLCanvasElement, Uint8Array>();

/**
 * Copies RGBA bytes into a canvas (resized only when the image size changes); false when the
 * canvas already shows this very array (drawn from a live frame before React passed it on).
 */
export function drawRgba(canvas: HTMLCanvasElement, img: RgbaImage): boolean {
  if (img.rgba.length !== img.width * img.height * 4) return false;
  if (shown.get(canvas) === img.rgba && canvas.width === img.width) return false;
  shown.set(canvas, img.rgba);
  let frame = frames.get(canvas);
  if (!frame || frame.width !== img.width || frame.height !== img.height) {
    canvas.width = img.width;
    canvas.height = img.height;
    frame = new ImageData(img.width, img.height);
    frames.set(canvas, frame);
  }
  frame.data.set(img.rgba);
  // a canvas in main memory (the hint asks Chromium for one): putImageData is a copy there,
  // where on a GPU canvas it waits on the GPU process (traced: 10-14 ms in a drag's move under
  // load); a picture this small costs the compositor nothing to upload
  canvas.getContext('2d', { willReadFrequently: true })?.putImageData(frame, 0, 0);
  return true;
}

/** Same pixels? (Replies carry fresh arrays; "before" rarely changes during a drag.) */
export function samePixels(a: RgbaImage | null, b: RgbaImage | null): boolean {
  if (!a || !b) return a === b;
  if (a.rgba === b.rgba) return true;
  if (a.width !== b.width || a.height !== b.height || a.rgba.length !== b.rgba.length) return false;
  for (let i = 0; i < a.rgba.length; i++) if (a.rgba[i] !== b.rgba[i]) return false;
  return true;
}

/** PNG bytes of raw pixels, encoded by the browser from a scratch canvas (export only). */
export async function rgbaToPngBlob(img: RgbaImage): Promise<Blob> {
  const canvas = document.createElement('canvas');
  drawRgba(canvas, img);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('cannot encode PNG'))), 'image/png'),
  );
}

/**
 * The page's "new pixels are on screen" mark for benchmarks, called right after a canvas
 * update: listeners get `orrery:image-drawn` in the next animation frame (when they show) with
 * `drawnAt`, the time the canvas had the pixels, and `at`, the time of that frame.
 */
export function markDrawn(): void {
  const drawnAt = performance.now();
  requestAnimationFrame(() =>
    window.dispatchEvent(
      new CustomEvent('orrery:image-drawn', { detail: { at: performance.now(), drawnAt } }),
    ),
  );
}
