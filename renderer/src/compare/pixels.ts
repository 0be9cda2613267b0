/** Decodes a base64 PNG to RGBA pixels in the page, and measures two images' distance. */
import pixelmatch from 'pixelmatch';
import { ssim } from 'ssim.js';

export interface Pixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

export async function decodePng(base64: string): Promise<Pixels> {
  const img = new Image();
  img.src = `data:image/png;base64,${base64}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { data: d.data, width: d.width, height: d.height };
}

export interface Distance {
  /** Mean absolute difference over RGB, 0–255. */
  meanAbs: number;
  /** Share of pixels pixelmatch calls different. */
  changedShare: number;
  ssim: number;
  /** RGBA heatmap of the differences. */
  heatmap: Uint8ClampedArray;
}

export function distance(a: Pixels, b: Pixels): Distance {
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    sum += Math.abs((a.data[i] ?? 0) - (b.data[i] ?? 0));
    sum += Math.abs((a.data[i + 1] ?? 0) - (b.data[i + 1] ?? 0));
    sum += Math.abs((a.data[i + 2] ?? 0) - (b.data[i + 2] ?? 0));
  }
  const changed = pixelmatch(a.data, b.data, undefined, a.width, a.height, { threshold: 0.05 });
  const heatmap = differenceHeatmap(a, b);
  const s = ssim(
    { data: a.data, width: a.width, height: a.height },
    { data: b.data, width: b.width, height: b.height },
  );
  return {
    meanAbs: sum / ((a.data.length / 4) * 3),
    changedShare: changed / (a.width * a.height),
    ssim: s.mssim,
    heatmap,
  };
}

/**
 * Where two images differ: the largest channel difference per pixel, scaled to the largest
 * in the image, in warm colours over a dimmed grey copy of the first image.
 */
export function differenceHeatmap(a: Pixels, b: Pixels): Uint8ClampedArray {
  const n = a.width * a.height;
  const diff = new Float32Array(n);
  let max = 0;
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    const d = Math.max(
      Math.abs((a.data[i] ?? 0) - (b.data[i] ?? 0)),
      Math.abs((a.data[i + 1] ?? 0) - (b.data[i + 1] ?? 0)),
      Math.abs((a.data[i + 2] ?? 0) - (b.data[i + 2] ?? 0)),
    );
    diff[p] = d;
    if (d > max) max = d;
  }
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    const grey =
      0.25 * (0.3 * (a.data[i] ?? 0) + 0.59 * (a.data[i + 1] ?? 0) + 0.11 * (a.data[i + 2] ?? 0));
    const t = max > 0 ? (diff[p] ?? 0) / max : 0;
    out[i] = grey + t * (255 - grey);
    out[i + 1] = grey + t * t * (200 - grey);
    out[i + 2] = grey * (1 - t) + t * 40;
    out[i + 3] = 255;
  }
  return out;
}
