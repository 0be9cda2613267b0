// Parity check for the text pack's ONNX graphs: onnxruntime-node against the torch reference
// written by models/recipes/text/export.py. Each case is one step: below.onnx on the tokens and
// the past of the layers up to the (first) hook, then each middle graph (packs with several
// hooks) and above.onnx, each on the residual the graph before gave plus the steering at that
// hook and the past of its layers. Exits non-zero on any mismatch.
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
// The graphs in the order a step runs them: below, each middle (packs with several hooks), above.
const files = [graphs.below, ...(graphs.middle ?? []), graphs.above];
const hooks = ref.hooks ?? [null];
const sessions = [];
for (const f of files) sessions.push(await ort.InferenceSession.create(join(dir, f)));

let failed = false;
const known = (n) => ["hook_resid", "next_hook_resid", "steering", "logits", "input_ids", "position_ids"].includes(n) ||
  /^(past|present)\.\d+\.(key|value)$/.test(n);
sessions.forEach((s, j) => {
  const bad = [...s.inputNames, ...s.outputNames].filter((n) => !known(n));
  if (bad.length) { console.log(`FAIL ${files[j]}: unexpected names ${bad.join(", ")}`); failed = true; }
  const ins = j === 0 ? ["input_ids", "position_ids"] : ["hook_resid", "steering"];
  for (const n of ins) if (!s.inputNames.includes(n)) { console.log(`FAIL ${files[j]} lacks input ${n}`); failed = true; }
  const out = j === 0 ? "hook_resid" : j === files.length - 1 ? "logits" : "next_hook_resid";
  if (!s.outputNames.includes(out)) { console.log(`FAIL ${files[j]} must give ${out}`); failed = true; }
});

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
  const out = {};
  let h = null;
  for (let j = 0; j < sessions.length; j++) {
    const steer = j === 0 ? {} : { steering: tensor("steering", c.inputs[`steering:${hooks[j - 1]}`] ?? c.inputs.steering) };
    const r = await sessions[j].run(feedsOf(sessions[j], j === 0 ? {} : { hook_resid: h, ...steer }));
    for (const [n, t] of Object.entries(r)) {
      if (n.startsWith("present.") || n === "logits" || (j === 0 && n === "hook_resid")) out[n] = t;
    }
    h = r.hook_resid ?? r.next_hook_resid ?? null;
    if (h && hooks[j]) out[hooks[j]] = h;
  }
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
