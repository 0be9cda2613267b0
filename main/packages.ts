/**
 * Packages loaded when first used, not when a module that names them loads. The server's main
 * thread and every index reader load the modules of every kind of pack, and these packages
 * (images, fonts, image metrics, zips, tokenizers) cost ~50 ms of CPU a thread to load, at
 * start, where a text pack's galaxy needs none of them (issue 19's cold start). Their types
 * come from `import type`.
 */
import { createRequire } from 'node:module';
import type * as Fflate from 'fflate';
import type * as JpegJs from 'jpeg-js';
import type * as Opentype from 'opentype.js';
import type * as Pixelmatch from 'pixelmatch';
import type * as Pngjs from 'pngjs';
import type * as SsimJs from 'ssim.js';
import type * as Tokenizers from '@huggingface/tokenizers';

const load = createRequire(__filename);

/** `name`'s exports, loaded on the first call (onnxruntime-node too: runtime/onnx.ts). */
export function onFirstUse<T>(name: string): () => T {
  let m: T | undefined;
  return () => (m ??= load(name) as T);
}

export const pngjs = onFirstUse<typeof Pngjs>('pngjs');
export const jpegJs = onFirstUse<typeof JpegJs>('jpeg-js');
export const ssimJs = onFirstUse<typeof SsimJs>('ssim.js');
/** An ES module: its function is the default export. */
export const pixelmatch = onFirstUse<typeof Pixelmatch>('pixelmatch');
export const fflate = onFirstUse<typeof Fflate>('fflate');
export const tokenizers = onFirstUse<typeof Tokenizers>('@huggingface/tokenizers');

/**
 * opentype.parse, whichever way the package was loaded: its ES build has named exports only,
 * its UMD build (what Node's ESM loader gets) puts everything on the default export.
 */
export function opentypeParse(): typeof Opentype.parse {
  const m = opentype();
  return (
    (m as { parse?: typeof Opentype.parse }).parse ??
    (m as unknown as { default: typeof Opentype }).default.parse
  );
}
const opentype = onFirstUse<typeof Opentype>('opentype.js');
