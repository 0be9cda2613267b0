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
  const heatmap = new Uint8ClampedArray(a.data.length);
  const changed = pixelmatch(a.data, b.data, heatmap, a.width, a.height, {
    threshold: 0.05,
    diffMask: false,
    alpha: 0.2,
  });
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
