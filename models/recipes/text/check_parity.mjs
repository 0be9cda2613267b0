// Parity check for the text pack's ONNX graphs: onnxruntime-node against the torch reference
// written by models/recipes/text/export.py. Each case is one step: below.onnx on the tokens and
// the past of the layers up to the hook, then above.onnx on its hook_resid plus the steering
// and the past of the layers above. Exits non-zero on any mismatch.
//   node models/recipes/text/check_parity.mjs <folder with below.onnx/above.onnx> <reference.json>
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const require = createRequire(join(repoRoot, "package.json"));
const ort = require("onnxruntime-node");

const [dir, refPath] = process.argv.slice(2);
if (!dir || !refPath) {
  console.error("usage: node check_parity.mjs <folder with below.onnx/above.onnx> <reference.json>");
  process.exit(2);
}
const ref = JSON.parse(readFileSync(refPath, "utf8"));
const tol = ref.tolerance ?? 1e-3;
const graphs = ref.graphs ?? { below: "below.onnx", above: "above.onnx" };
const below = await ort.InferenceSession.create(join(dir, graphs.below));
const above = await ort.InferenceSession.create(join(dir, graphs.above));

let failed = false;
const want = (session, name, list) => {
  const ok = list.every((n) => n === "hook_resid" || n === "steering" || n === "logits" || n === "input_ids" ||
    n === "position_ids" || /^(past|present)\.\d+\.(key|value)$/.test(n));
  if (!ok) {
    console.log(`FAIL ${name}: unexpected names ${list.join(", ")}`);
    failed = true;
  }
};
want(below, "below inputs", below.inputNames);
want(below, "below outputs", below.outputNames);
want(above, "above inputs", above.inputNames);
want(above, "above outputs", above.outputNames);
for (const [g, s, names] of [["below", below, ["input_ids", "position_ids"]], ["above", above, ["hook_resid", "steering"]]]) {
  for (const n of names) if (!s.inputNames.includes(n)) { console.log(`FAIL ${g} lacks input ${n}`); failed = true; }
}
if (!below.outputNames.includes("hook_resid") || !above.outputNames.includes("logits")) {
  console.log("FAIL below must give hook_resid and above logits");
  failed = true;
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
  const feedsOf = (session, extra = {}) => {
    const feeds = {};
    for (const n of session.inputNames) feeds[n] = extra[n] ?? tensor(n, c.inputs[n]);
    return feeds;
  };
  const b = await below.run(feedsOf(below));
  const a = await above.run(feedsOf(above, { hook_resid: b.hook_resid }));
  const out = { ...b, ...a };
  results[c.name] = out;
  for (const [name, t] of Object.entries(c.outputs)) {
    const got = out[name];
    if (!got) {
      console.log(`FAIL ${c.name}.${name}: no such output`);
      failed = true;
      continue;
    }
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
