// ONNX parity check for the glyph pack: runs encoder.onnx / decoder.onnx from PACK_DIR with
// onnxruntime-node on the reference inputs in REF_DIR (written by recipe.py from torch) and
// compares with the torch outputs. Exits 1 when any output differs by more than the tolerance.
// usage: node parity.mjs PACK_DIR REF_DIR
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");

const [packDir, refDir] = process.argv.slice(2);
if (!packDir || !refDir) {
  console.error("usage: node parity.mjs PACK_DIR REF_DIR");
  process.exit(2);
}
const ref = JSON.parse(fs.readFileSync(path.join(refDir, "parity.json"), "utf8"));
const tol = ref.tolerance ?? 1e-3;

function load(spec) {
  const buf = fs.readFileSync(path.join(refDir, spec.file));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const data = spec.dtype === "int64" ? new BigInt64Array(ab) : new Float32Array(ab);
  return new ort.Tensor(spec.dtype, data, spec.shape);
}

const report = { ok: true, tolerance: tol, graphs: {} };
for (const [name, g] of Object.entries(ref.graphs)) {
  const session = await ort.InferenceSession.create(path.join(packDir, g.onnx));
  const feeds = {};
  for (const [k, spec] of Object.entries(g.inputs)) feeds[k] = load(spec);
  const out = await session.run(feeds);
  const r = {};
  for (const [k, spec] of Object.entries(g.outputs)) {
    const want = load(spec);
    const got = out[k];
    if (!got) throw new Error(`${name}: missing output ${k}`);
    const sameShape = got.dims.length === want.dims.length && got.dims.every((d, i) => d === want.dims[i]);
    let maxAbs = 0;
    for (let i = 0; i < want.data.length; i++) {
      const d = Math.abs(got.data[i] - want.data[i]);
      if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
    }
    const ok = sameShape && maxAbs <= tol;
    r[k] = { max_abs_diff: maxAbs, shape: got.dims, ok };
    if (!ok) report.ok = false;
  }
  report.graphs[name] = r;
}
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
