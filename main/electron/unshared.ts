/**
 * A reply with each typed array over a SharedArrayBuffer copied into memory of its own.
 * Electron's IPC cannot send shared memory to another process, and the index readers share
 * the galaxy's map arrays with the API thread (main/index/mapRead.ts sharedMapRead). The copy
 * is the one structured clone makes of any array. Walks plain objects and arrays; anything
 * else is returned as it is, and so is a value holding no shared array.
 */
export function unshared<T>(value: T): T {
  return walk(value) as T;
}

function walk(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) {
    return v.buffer instanceof SharedArrayBuffer && !(v instanceof DataView)
      ? (v as unknown as { slice(): unknown }).slice()
      : v;
  }
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    v.forEach((x, i) => {
      const y = walk(x);
      if (y !== x) (out ??= [...v])[i] = y;
    });
    return out ?? v;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v;
  let out: Record<string, unknown> | null = null;
  for (const [k, x] of Object.entries(v)) {
    const y = walk(x);
    if (y !== x) (out ??= { ...v })[k] = y;
  }
  return out ?? v;
}
