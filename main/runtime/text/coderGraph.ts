/**
 * One SAE's pin and scale dials at a hook as a graph (DESIGN.md §3), for a text step to run
 * inside the model's own graph (textGraphs' coded graphs) where it would otherwise stop at the
 * hook, read the residual out and run on from there: the residual h [batch, seq, d_in] and
 * the steering already due there → that steering plus the dials' delta,
 *
 *   f = the dialled features' codes of h (encode, read at `features` [m]),
 *   f' − f = a + c · f   (a pin to v: a = v, c = −1; a scale by v: a = 0, c = v − 1; a
 *                         feature a row's dials leave alone: a = c = 0, exactly 0),
 *   delta = (f' − f) · W_dec[features].
 *
 * It reads and steers only the rows some dial reaches (`rows` [r]; the other rows' steering
 * passes as it came: the unsteered "before" row of a batch costs it nothing); a and c are
 * [r, 1, m], so each of those rows has its own dials.
 *
 * Codes as encode gives them, from pre = (h − b_dec) W_enc + b_enc of the dialled features in
 * float32 as ORT sums it: standard, f = ReLU(pre); jumprelu, f = pre where pre > θ; topk,
 * f = ReLU(pre) where the feature is one of the row's k largest pre-activations. For that, an
 * int8 product of every feature (as main/runtime/saeRank quantises it: a quarter of W_enc's
 * bytes) names candidatesFor(k) features, and the top k of those by their float
 * pre-activations are the row's. The codes and the delta agree with steer()'s float64 sums to
 * float32 rounding, not bit for bit (the split path, which reads h out, is exact). SAEs that
 * normalise or centre their input, or are gated, have no graph here (null): their steps keep
 * the split path.
 */
import type { Sae } from '../../sae';
import { buildModel, elemCode, type Initializer, type NodeSpec } from '../onnxGraph';
import { topkOf } from '../saeTopk';

/** The coder's own names; the merge renames them (mergedGraph). */
export const CODER_IO = {
  resid: 'hook_resid',
  steering: 'steering',
  rows: 'rows',
  features: 'features',
  a: 'a',
  c: 'c',
  out: 'steered',
} as const;

/** Whether an SAE's codes can be formed in a graph here (see above). */
export function codableInGraph(sae: Sae): boolean {
  const c = sae.config;
  if (c.normalizeActivations !== 'none' || c.centerInput) return false;
  if (sae.architecture === 'topk') return topkOf(sae) !== null;
  return sae.architecture === 'standard' || sae.architecture === 'jumprelu';
}

/** The coder graph of an SAE (null when codableInGraph says no). */
export function coderGraph(sae: Sae): Uint8Array | null {
  if (!codableInGraph(sae)) return null;
  const { dIn, dSae } = sae;
  const io = CODER_IO;
  const nodes: NodeSpec[] = [];
  const initializers: Initializer[] = [];
  // The rows some dial reaches, alone.
  nodes.push({ op: 'Gather', inputs: [io.resid, io.rows], outputs: ['h'], intAttrs: { axis: 0 } });
  let x = 'h';
  if (sae.config.applyBDecToInput) {
    initializers.push({ name: 'b_dec', dims: [dIn], values: sae.decoderBias });
    nodes.push({ op: 'Sub', inputs: ['h', 'b_dec'], outputs: ['xp'] });
    x = 'xp';
  }
  initializers.push({ name: 'b_enc', dims: [dSae], values: sae.encoderBias });
  const k = topkOf(sae);
  if (k !== null) {
    // Which features are in the row's top k: candidates from an int8 product of every
    // feature (a quarter of W_enc's bytes; the scale of each column and of the row, as in
    // main/runtime/saeRank), then the candidates' and the dialled features' pre-activations
    // in float, the top k of the candidates by those (ties to the lower candidate).
    const cands = Math.min(dSae, candidatesFor(k));
    const { q, step } = quantiseColumns(sae.encoderTransposed, dSae, dIn);
    initializers.push(
      { name: 'w_q', dims: [dIn, dSae], values: q, type: 'int8' },
      { name: 'w_step', dims: [dSae], values: step },
      { name: 'w_enc_t', dims: [dSae, dIn], values: sae.encoderTransposed },
      { name: 'n_cands', dims: [1], values: [cands], type: 'int64' },
      { name: 'k', dims: [1], values: [k], type: 'int64' },
      { name: 'zero', dims: [1], values: [0], type: 'int64' },
      { name: 'two', dims: [1], values: [2], type: 'int64' },
      { name: 'three', dims: [1], values: [3], type: 'int64' },
      { name: 'past_end', dims: [1], values: [cands + dSae + 1], type: 'int64' },
    );
    nodes.push(
      { op: 'DynamicQuantizeLinear', inputs: [x], outputs: ['x_q', 'x_step', 'x_zero'] },
      { op: 'MatMulInteger', inputs: ['x_q', 'w_q', 'x_zero'], outputs: ['acc'] },
      { op: 'Cast', inputs: ['acc'], outputs: ['acc_f'], intAttrs: { to: elemCode.float32 } },
      { op: 'Mul', inputs: ['acc_f', 'w_step'], outputs: ['rough_w'] },
      { op: 'Mul', inputs: ['rough_w', 'x_step'], outputs: ['rough_x'] },
      { op: 'Add', inputs: ['rough_x', 'b_enc'], outputs: ['rough'] },
      { op: 'TopK', inputs: ['rough', 'n_cands'], outputs: ['_', 'cand'], intAttrs: { axis: 2 } },
      // [r, seq, cands + m]: the candidates, then the dialled features.
      { op: 'Shape', inputs: [x], outputs: ['x_shape'] },
      { op: 'Slice', inputs: ['x_shape', 'zero', 'two'], outputs: ['rs'] },
      { op: 'Shape', inputs: [io.features], outputs: ['m'] },
      { op: 'Concat', inputs: ['rs', 'm'], outputs: ['rsm'], intAttrs: { axis: 0 } },
      { op: 'Expand', inputs: [io.features, 'rsm'], outputs: ['feat'] },
      { op: 'Concat', inputs: ['cand', 'feat'], outputs: ['ids'], intAttrs: { axis: 2 } },
      { op: 'Gather', inputs: ['w_enc_t', 'ids'], outputs: ['w_ids'], intAttrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: [x, 'three'], outputs: ['x_col'] },
      { op: 'MatMul', inputs: ['w_ids', 'x_col'], outputs: ['xw_col'] },
      { op: 'Squeeze', inputs: ['xw_col', 'three'], outputs: ['xw'] },
      { op: 'Gather', inputs: ['b_enc', 'ids'], outputs: ['b_ids'], intAttrs: { axis: 0 } },
      { op: 'Add', inputs: ['xw', 'b_ids'], outputs: ['pre_ids'] },
      { op: 'Slice', inputs: ['pre_ids', 'zero', 'n_cands', 'two'], outputs: ['pre_cand'] },
      { op: 'Slice', inputs: ['pre_ids', 'n_cands', 'past_end', 'two'], outputs: ['pre'] },
      { op: 'TopK', inputs: ['pre_cand', 'k'], outputs: ['__', 'top_at'], intAttrs: { axis: 2 } },
      { op: 'GatherElements', inputs: ['cand', 'top_at'], outputs: ['top'], intAttrs: { axis: 2 } },
      // A dialled feature is coded when it is one of the top k: [r, seq, m, 1] = [r, seq, 1, k].
      { op: 'Unsqueeze', inputs: ['feat', 'three'], outputs: ['feat_col'] },
      { op: 'Unsqueeze', inputs: ['top', 'two'], outputs: ['top_row'] },
      { op: 'Equal', inputs: ['feat_col', 'top_row'], outputs: ['hit'] },
      { op: 'Cast', inputs: ['hit'], outputs: ['hit_f'], intAttrs: { to: elemCode.float32 } },
      { op: 'ReduceSum', inputs: ['hit_f', 'three'], outputs: ['keep'], intAttrs: { keepdims: 0 } },
      { op: 'Relu', inputs: ['pre'], outputs: ['pos'] },
      { op: 'Mul', inputs: ['pos', 'keep'], outputs: ['f'] },
    );
  } else {
    // The dialled features' columns alone.
    initializers.push({
      name: 'w_enc',
      dims: [dIn, dSae],
      values: transpose(sae.encoderTransposed, dSae, dIn),
    });
    nodes.push(
      { op: 'Gather', inputs: ['w_enc', io.features], outputs: ['w_m'], intAttrs: { axis: 1 } },
      { op: 'MatMul', inputs: [x, 'w_m'], outputs: ['xw'] },
      { op: 'Gather', inputs: ['b_enc', io.features], outputs: ['b_m'], intAttrs: { axis: 0 } },
      { op: 'Add', inputs: ['xw', 'b_m'], outputs: ['pre'] },
    );
    const th = sae.thresholds;
    if (sae.architecture === 'jumprelu' && th) {
      initializers.push({ name: 'theta', dims: [dSae], values: th });
      nodes.push(
        {
          op: 'Gather',
          inputs: ['theta', io.features],
          outputs: ['theta_m'],
          intAttrs: { axis: 0 },
        },
        { op: 'Greater', inputs: ['pre', 'theta_m'], outputs: ['over'] },
        { op: 'Cast', inputs: ['over'], outputs: ['keep'], intAttrs: { to: elemCode.float32 } },
        { op: 'Mul', inputs: ['pre', 'keep'], outputs: ['f'] },
      );
    } else {
      nodes.push({ op: 'Relu', inputs: ['pre'], outputs: ['f'] });
    }
  }
  initializers.push({ name: 'w_dec', dims: [dSae, dIn], values: sae.decoderWeights });
  nodes.push(
    { op: 'Mul', inputs: [io.c, 'f'], outputs: ['cf'] },
    { op: 'Add', inputs: [io.a, 'cf'], outputs: ['diff'] },
    { op: 'Gather', inputs: ['w_dec', io.features], outputs: ['w_dec_m'], intAttrs: { axis: 0 } },
    { op: 'MatMul', inputs: ['diff', 'w_dec_m'], outputs: ['delta'] },
    { op: 'Gather', inputs: [io.steering, io.rows], outputs: ['s_rows'], intAttrs: { axis: 0 } },
    { op: 'Add', inputs: ['s_rows', 'delta'], outputs: ['s_new'] },
    { op: 'Unsqueeze', inputs: [io.rows, 'one'], outputs: ['at'] },
    { op: 'ScatterND', inputs: [io.steering, 'at', 's_new'], outputs: [io.out] },
  );
  initializers.push({ name: 'one', dims: [1], values: [1], type: 'int64' });
  return buildModel({
    name: 'orrery_sae_coder',
    inputs: [
      { name: io.resid, type: 'float32', shape: ['batch', 'seq', dIn] },
      { name: io.steering, type: 'float32', shape: ['batch', 'seq', dIn] },
      { name: io.rows, type: 'int64', shape: ['r'] },
      { name: io.features, type: 'int64', shape: ['m'] },
      { name: io.a, type: 'float32', shape: ['r', 1, 'm'] },
      { name: io.c, type: 'float32', shape: ['r', 1, 'm'] },
    ],
    outputs: [{ name: io.out, type: 'float32', shape: ['batch', 'seq', dIn] }],
    nodes,
    initializers,
  });
}

/**
 * How many features a row's int8 product names as candidates for its top k: the top k by the
 * exact product are among them unless quantisation moved a feature past k + k + 32 others
 * (each pre-activation is off by at most about a hundredth of its scale).
 */
export function candidatesFor(k: number): number {
  return 2 * k + 32;
}

/**
 * W_enc's columns (the rows of its transpose, [d_sae, d_in]) as int8, each with its own step
 * s_j = max|w_j| / 127: q [d_in, d_sae], the layout MatMulInteger reads.
 */
function quantiseColumns(
  wT: Float32Array,
  dSae: number,
  dIn: number,
): { q: Int8Array; step: Float32Array } {
  const q = new Int8Array(dIn * dSae);
  const step = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let max = 0;
    for (let c = 0; c < dIn; c++) max = Math.max(max, Math.abs(wT[j * dIn + c] as number));
    const s = max / 127;
    step[j] = s;
    for (let c = 0; c < dIn; c++)
      q[c * dSae + j] = s > 0 ? Math.round((wT[j * dIn + c] as number) / s) : 0;
  }
  return { q, step };
}

/** [rows, cols] → [cols, rows]. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  }
  return out;
}
