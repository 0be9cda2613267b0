/**
 * Between model tensors and SAE rows. An SAE reads rows of d_in values; a spatial activation
 * map comes as [batch, C, H, W] (NCHW), where each of the H × W positions is one C-vector
 * (PACK_FORMAT.md, image-vae `decoder.hook_spatial`). A painted region arrives at image
 * resolution and is reduced to one flag per position.
 */

/** [batch, C, H, W] → rows [batch · H · W, C], row index = (b · H + y) · W + x. */
export function nchwToRows(
  data: Float32Array,
  batch: number,
  channels: number,
  height: number,
  width: number,
): Float32Array {
  checkSize(data.length, batch, channels, height, width);
  const hw = height * width;
  const out = new Float32Array(data.length);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const src = (b * channels + c) * hw;
      for (let p = 0; p < hw; p++) out[(b * hw + p) * channels + c] = data[src + p] ?? 0;
    }
  }
  return out;
}

/** rows [batch · H · W, C] → [batch, C, H, W]; the inverse of nchwToRows. */
export function rowsToNchw(
  rows: Float32Array,
  batch: number,
  channels: number,
  height: number,
  width: number,
): Float32Array {
  checkSize(rows.length, batch, channels, height, width);
  const hw = height * width;
  const out = new Float32Array(rows.length);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const dst = (b * channels + c) * hw;
      for (let p = 0; p < hw; p++) out[dst + p] = rows[(b * hw + p) * channels + c] ?? 0;
    }
  }
  return out;
}

/**
 * A painted region → one flag per spatial position. `paint` is [paintH, paintW] coverage in
 * 0…1 (e.g. a brush stroke at image resolution); the map is [height, width]. A position is
 * on when the mean coverage of the paint pixels it covers is at least `threshold`. The
 * result is [batch · height · width], the same region in every batch item, ready to be a
 * dial's mask over nchwToRows rows.
 */
export function maskFromPaint(
  paint: ArrayLike<number>,
  paintH: number,
  paintW: number,
  height: number,
  width: number,
  batch = 1,
  threshold = 0.5,
): Uint8Array {
  if (paint.length !== paintH * paintW) {
    throw new RangeError(`paint has ${paint.length} values, expected ${paintH} × ${paintW}`);
  }
  if (!(height > 0 && width > 0 && paintH >= height && paintW >= width)) {
    throw new RangeError(
      `cannot reduce a ${paintH} × ${paintW} painting to a ${height} × ${width} map`,
    );
  }
  const cell = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * paintH) / height);
    const y1 = Math.floor(((y + 1) * paintH) / height);
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * paintW) / width);
      const x1 = Math.floor(((x + 1) * paintW) / width);
      let sum = 0;
      for (let py = y0; py < y1; py++) {
        for (let px = x0; px < x1; px++) sum += paint[py * paintW + px] ?? 0;
      }
      cell[y * width + x] = sum / ((y1 - y0) * (x1 - x0)) >= threshold ? 1 : 0;
    }
  }
  const out = new Uint8Array(batch * height * width);
  for (let b = 0; b < batch; b++) out.set(cell, b * cell.length);
  return out;
}

function checkSize(len: number, batch: number, channels: number, height: number, width: number) {
  const want = batch * channels * height * width;
  if (len !== want) {
    throw new RangeError(
      `tensor has ${len} values, expected [${batch}, ${channels}, ${height}, ${width}] = ${want}`,
    );
  }
}
