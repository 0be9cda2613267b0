// ONNX parity check for the emoji pack: runs each graph with onnxruntime-node on the reference
// inputs the recipe wrote from torch, and compares every output with torch's.
// usage: node parity.mjs <pack_dir> <reference.json>
//   e.g. node models/recipes/emoji/parity.mjs models/emoji models/recipes/emoji/parity_reference.json
// Exits 1 when a graph is missing, an input/output name differs, a shape differs, or any
// element differs from torch by more than the reference's tolerance.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function loadOrt() {
  const candidates = [
    process.env.ORRERY_ORT_PATH,
    resolve(here, '../../../node_modules/onnxruntime-node'),
    'onnxruntime-node',
  ].filter(Boolean);
  for (const c of candidates) {
    try {
      return require(c);
    } catch {
      // try the next place
    }
  }
  throw new Error(`onnxruntime-node not found (tried ${candidates.join(', ')})`);
}

function decode(t) {
  const buf = Buffer.from(t.data, 'base64');
  const arr = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return { dims: t.dims, data: Float32Array.from(arr) };
}

async function main() {
  const [packDir, refPath] = process.argv.slice(2);
  if (!packDir || !refPath) {
    console.error('usage: node parity.mjs <pack_dir> <reference.json>');
    process.exit(2);
  }
  const ort = loadOrt();
  const ref = JSON.parse(readFileSync(refPath, 'utf8'));
  const tol = ref.tolerance;
  let failed = false;
  for (const g of ref.graphs) {
    const session = await ort.InferenceSession.create(join(packDir, g.file));
    const wantIn = Object.keys(g.inputs).sort();
    const wantOut = Object.keys(g.outputs).sort();
    if (JSON.stringify([...session.inputNames].sort()) !== JSON.stringify(wantIn) ||
        JSON.stringify([...session.outputNames].sort()) !== JSON.stringify(wantOut)) {
      console.error(`${g.file}: names ${session.inputNames} -> ${session.outputNames}, want ${wantIn} -> ${wantOut}`);
      failed = true;
      continue;
    }
    const feeds = {};
    for (const [name, t] of Object.entries(g.inputs)) {
      const { dims, data } = decode(t);
      feeds[name] = new ort.Tensor('float32', data, dims);
    }
    const out = await session.run(feeds);
    for (const [name, t] of Object.entries(g.outputs)) {
      const want = decode(t);
      const got = out[name];
      if (got.type !== 'float32' || JSON.stringify(Array.from(got.dims)) !== JSON.stringify(want.dims)) {
        console.error(`${g.file}:${name}: ${got.type} ${got.dims}, want float32 ${want.dims}`);
        failed = true;
        continue;
      }
      let maxDiff = 0;
      for (let i = 0; i < want.data.length; i++) {
        const d = Math.abs(got.data[i] - want.data[i]);
        if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
      }
      const ok = maxDiff <= tol;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${g.file}:${name} [${want.dims}] max|ort-torch| = ${maxDiff.toExponential(2)} (tol ${tol})`);
      if (!ok) failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
