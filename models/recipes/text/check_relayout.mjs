// Checks a re-exported text graph (below.onnx + above.onnx, per-layer past/present) against
// the old single model.onnx (stacked past_keys/past_values) it came from, in onnxruntime-node:
// a prompt then cached one-token steps, batch 2, non-zero steering; logits, hook_resid and
// every layer's present must agree within 1e-4. Exits non-zero otherwise.
//   node models/recipes/text/check_relayout.mjs <old model.onnx> <folder with below/above.onnx>
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const require = createRequire(join(repoRoot, "package.json"));
const ort = require("onnxruntime-node");

const [oldPath, dir] = process.argv.slice(2);
const TOL = 1e-4;
const old = await ort.InferenceSession.create(oldPath);
const below = await ort.InferenceSession.create(join(dir, "below.onnx"));
const above = await ort.InferenceSession.create(join(dir, "above.onnx"));
const dimsOf = (s, name) => s.inputMetadata.find((m) => m.name === name)?.shape;
const pk = dimsOf(old, "past_keys"); // [L, batch, H, past, Dh]
const [L, , H, , Dh] = pk;
const d = dimsOf(old, "steering")[2];
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const vocab = Number(old.outputMetadata.find((m) => m.name === "logits")?.shape[2] ?? 300);
const B = 2;
let pastOld = { k: new Float32Array(0), v: new Float32Array(0), len: 0 };
let pastNew = {};
for (let l = 0; l < L; l++) {
  pastNew[`past.${l}.key`] = new ort.Tensor("float32", new Float32Array(0), [B, H, 0, Dh]);
  pastNew[`past.${l}.value`] = new ort.Tensor("float32", new Float32Array(0), [B, H, 0, Dh]);
}
const maxDiff = (a, b) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
let worst = 0;
let failed = false;
const check = (what, a, b) => {
  const m = a.length === b.length ? maxDiff(a, b) : Infinity;
  worst = Math.max(worst, m);
  if (!(m <= TOL)) {
    console.log(`FAIL ${what}: max |new - old| = ${m}`);
    failed = true;
  }
};
for (const S of [5, 1, 1, 1, 2]) {
  const ids = BigInt64Array.from({ length: B * S }, () => BigInt(3 + Math.floor(rand() * (vocab - 3))));
  const pos = BigInt64Array.from({ length: B * S }, (_, i) => BigInt(pastOld.len + (i % S)));
  const steering = Float32Array.from({ length: B * S * d }, () => (rand() - 0.5));
  const t = (type, data, dims) => new ort.Tensor(type, data, dims);
  const o = await old.run({
    input_ids: t("int64", ids, [B, S]), position_ids: t("int64", pos, [B, S]),
    past_keys: t("float32", pastOld.k, [L, B, H, pastOld.len, Dh]),
    past_values: t("float32", pastOld.v, [L, B, H, pastOld.len, Dh]),
    steering: t("float32", steering, [B, S, d]),
  });
  const feeds = (s, extra) => Object.fromEntries(s.inputNames.map((n) => [n, extra[n] ?? pastNew[n]]));
  const b = await below.run(feeds(below, { input_ids: t("int64", ids, [B, S]), position_ids: t("int64", pos, [B, S]) }));
  const a = await above.run(feeds(above, {
    hook_resid: b.hook_resid, steering: t("float32", steering, [B, S, d]), position_ids: t("int64", pos, [B, S]),
  }));
  const at = `S=${S} past=${pastOld.len}`;
  check(`${at} logits`, a.logits.data, o.logits.data);
  check(`${at} hook_resid`, b.hook_resid.data, o.hook_resid.data);
  const n = B * H * (pastOld.len + S) * Dh;
  for (let l = 0; l < L; l++) {
    const p = { ...b, ...a };
    check(`${at} present.${l}.key`, p[`present.${l}.key`].data, o.present_keys.data.subarray(l * n, (l + 1) * n));
    check(`${at} present.${l}.value`, p[`present.${l}.value`].data, o.present_values.data.subarray(l * n, (l + 1) * n));
    pastNew[`past.${l}.key`] = p[`present.${l}.key`];
    pastNew[`past.${l}.value`] = p[`present.${l}.value`];
  }
  pastOld = { k: o.present_keys.data, v: o.present_values.data, len: pastOld.len + S };
}
console.log(`relayout: ${failed ? "FAILED" : "passed"}, max |new - old| = ${worst.toExponential(2)} (tolerance ${TOL})`);
process.exit(failed ? 1 : 0);
