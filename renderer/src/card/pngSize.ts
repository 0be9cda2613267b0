/** Width and height from a base64 PNG's IHDR (bytes 16–23), without decoding it; null if not a PNG. */
export function pngSize(base64: string): { width: number; height: number } | null {
  let bin: string;
  try {
    bin = atob(base64.slice(0, 32));
  } catch {
    return null;
  }
  if (bin.length < 24 || bin.slice(1, 4) !== 'PNG') return null;
  const u32 = (o: number): number =>
    ((bin.charCodeAt(o) << 24) >>> 0) +
    (bin.charCodeAt(o + 1) << 16) +
    (bin.charCodeAt(o + 2) << 8) +
    bin.charCodeAt(o + 3);
  const width = u32(16);
  const height = u32(20);
  return width > 0 && height > 0 ? { width, height } : null;
}
