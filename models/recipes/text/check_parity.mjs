// Parity check for the text pack's ONNX graph: onnxruntime-node against the torch reference
// written by models/recipes/text/export.py. Exits non-zero on any mismatch.
//   node models/recipes/text/check_parity.mjs <model.onnx> <parity_reference.json>
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const require = createRequire(join(repoRoot, "package.json"));
const ort = require("onnxruntime-node");

const [onnxPath, refPath] = process.argv.slice(2);
if (!onnxPath || !refPath) {
  console.error("usage: node check_parity.mjs <model.onnx> <parity_reference.json>");
  process.exit(2);
}
const ref = JSON.parse(readFileSync(refPath, "utf8"));
const tol = ref.tolerance ?? 1e-3;
const session = await ort.InferenceSession.create(onnxPath);

const expectNames = {
  inputs: ["input_ids", "position_ids", "past_keys", "past_values", "steering"],
  outputs: ["logits", "present_keys", "present_values", "hook_resid"],
};
let failed = false;
for (const [kind, names] of Object.entries(expectNames)) {
  const got = kind === "inputs" ? session.inputNames : session.outputNames;
  if (JSON.stringify([...got].sort()) !== JSON.stringify([...names].sort())) {
    console.log(`FAIL ${kind}: ${got.join(", ")} (expected ${names.join(", ")})`);
    failed = true;
  }
}

function tensor(name, t) {
  if (name === "input_ids" || name === "position_ids") {
    return new ort.Tensor("int64", BigInt64Array.from(t.data.map((v) => BigInt(v))), t.dims);
  }
  return new ort.Tensor("float32", Float32Array.from(t.data), t.dims);
}

function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const results = {};
for (const c of ref.cases) {
  const feeds = {};
  for (const [name, t] of Object.entries(c.inputs)) feeds[name] = tensor(name, t);
  const out = await session.run(feeds);
  results[c.name] = out;
  for (const [name, t] of Object.entries(c.outputs)) {
    const got = out[name];
    if (JSON.stringify(got.dims.map(Number)) !== JSON.stringify(t.dims)) {
      console.log(`FAIL ${c.name}.${name}: dims ${got.dims} != ${t.dims}`);
      failed = true;
      continue;
    }
    const d = maxDiff(got.data, t.data);
    const ok = d <= tol;
    failed ||= !ok;
    console.log(`${ok ? "ok  " : "FAIL"} ${c.name}.${name} dims [${t.dims}] max |onnx - torch| = ${d.toExponential(2)}`);
  }
  // the cached call must give the logits of the uncached call at the same positions
  if (c.same_as) {
    const full = results[c.same_as.case].logits;
    const tail = out.logits;
    const [B, S, V] = tail.dims.map(Number);
    const Sf = Number(full.dims[1]);
    let m = 0;
    for (let b = 0; b < B; b++)
      for (let s = 0; s < S; s++)
        for (let v = 0; v < V; v++) {
          const x = tail.data[(b * S + s) * V + v];
          const y = full.data[(b * Sf + s + c.same_as.from_position) * V + v];
          m = Math.max(m, Math.abs(x - y));
        }
    const ok = m <= tol;
    failed ||= !ok;
    console.log(`${ok ? "ok  " : "FAIL"} ${c.name} logits vs ${c.same_as.case} (cache consistency) max diff = ${m.toExponential(2)}`);
  }
}
console.log(failed ? "parity: FAILED" : "parity: passed");
process.exit(failed ? 1 : 0);
