/**
 * A sparse autoencoder in SAELens's on-disk format, evaluated on the CPU with flat
 * Float32Array loops (DESIGN.md §2). With x' = x − b_dec when apply_b_dec_to_input:
 * - standard: f = ReLU(x' W_enc + b_enc)
 * - topk:     keep the k largest of (x' W_enc + b_enc), ReLU; zero the rest
 * - jumprelu: pre = x' W_enc + b_enc; f = pre · [pre > threshold]
 * - gated:    f = [x' W_enc + b_gate > 0] · ReLU(x' (W_enc ⊙ exp(r_mag)) + b_mag)
 * - decode:   x̂ = f W_dec + b_dec
 * Inputs are first normalised per row when cfg.normalize_activations asks for it (see
 * ActivationNorm in ./config); decode undoes it when given the InputNorm from encode.
 *
 * jumprelu follows DESIGN.md. SAELens computes ReLU(pre) · [pre > threshold]; the two agree
 * whenever threshold ≥ 0, which SAELens guarantees (threshold = exp(log_threshold)).
 *
 * All tensors are row-major. Dot products accumulate in float64 (JS numbers), in one fixed
 * order, so a row's code does not depend on the batch it came in; x' W_enc and the codes
 * are stored as float32. W_enc is kept transposed ([d_sae, d_in]) so that every inner loop
 * walks contiguous memory.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseSaeConfig, type SaeConfig } from './config';
import { SafetensorsError, SafetensorsFile, SafetensorsOnDisk, type Tensor } from './safetensors';

export const CFG_FILE = 'cfg.json';
export const WEIGHTS_FILE = 'sae_weights.safetensors';
export const SPARSITY_FILE = 'sparsity.safetensors';
const MAX_CFG_BYTES = 1_000_000;

export class SaeLoadError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'SaeLoadError';
  }
}

/**
 * Per-row input normalisation, kept so decode can undo it: encode reads
 * (x − shift) · inScale; decode returns x̂ · outScale + shift. Each array is [n].
 */
export interface InputNorm {
  inScale: Float64Array;
  outScale: Float64Array;
  shift: Float64Array;
}

/** The top active features of each row: [n, k] slots, best first, unused slots −1 / 0. */
export interface SparseCodes {
  n: number;
  k: number;
  /** [n, k] feature indices, −1 where the row has fewer than k active features. */
  indices: Int32Array;
  /** [n, k] activations, 0 in unused slots. */
  values: Float32Array;
  /** [n] number of used slots per row. */
  counts: Int32Array;
}

/** Weights by SAELens name. Extra tensors are ignored; missing or mis-shaped ones are errors. */
export type SaeTensors = ReadonlyMap<string, Tensor>;

/** The weights in the layout the loops read. */
interface SaeWeights {
  /** [d_sae, d_in]: W_enc transposed, so feature j's encoder column is contiguous. */
  wEncT: Float32Array;
  /** [d_sae, d_in] */
  wDec: Float32Array;
  /** [d_in] */
  bDec: Float32Array;
  /** [d_sae]: b_enc (standard, topk, jumprelu) or b_gate (gated). */
  bPre: Float32Array;
  /** [d_sae] jumprelu only. */
  threshold: Float32Array | null;
  /** [d_sae] gated only: b_mag and exp(r_mag). */
  bMag: Float32Array | null;
  rMagExp: Float64Array | null;
}

/** Where the tensors come from: their shapes up front, their rows (first dimension) when read. */
interface TensorSource {
  shape(name: string): readonly number[] | undefined;
  rows(name: string, from: number, count: number): Float32Array;
}

function memorySource(tensors: SaeTensors): TensorSource {
  return {
    shape: (name) => tensors.get(name)?.shape,
    rows: (name, from, count) => {
      const t = tensors.get(name) as Tensor;
      const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
      return t.data.subarray(from * row, (from + count) * row);
    },
  };
}

function diskSource(file: SafetensorsOnDisk): TensorSource {
  return {
    shape: (name) => file.info(name)?.shape,
    rows: (name, from, count) => file.rows(name, from, count),
  };
}

/** Values read from disk per part (a tensor is read in parts of about this many). */
const READ_VALUES = 1 << 21;

/** The tensors each architecture needs, with the shapes cfg.json implies. */
function needed(config: SaeConfig): [name: string, shape: number[]][] {
  const { dIn, dSae, architecture } = config;
  return [
    ['W_enc', [dIn, dSae]],
    ['W_dec', [dSae, dIn]],
    ['b_dec', [dIn]],
    ...((architecture === 'gated'
      ? [
          ['b_gate', [dSae]],
          ['b_mag', [dSae]],
          ['r_mag', [dSae]],
        ]
      : [['b_enc', [dSae]], ...(architecture === 'jumprelu' ? [['threshold', [dSae]]] : [])]) as [
      string,
      number[],
    ][]),
  ];
}

/** Throws unless every tensor the architecture needs is there with the shape cfg.json implies. */
function checkShapes(config: SaeConfig, source: TensorSource, file: string): void {
  const { dIn, dSae, architecture } = config;
  for (const [name, shape] of needed(config)) {
    const have = source.shape(name);
    if (!have) throw new SaeLoadError(file, `missing tensor "${name}" (a ${architecture} SAE)`);
    if (have.length !== shape.length || have.some((d, i) => d !== shape[i])) {
      throw new SaeLoadError(
        file,
        `tensor "${name}" has shape [${have.join(', ')}], but cfg.json (d_in ${dIn}, ` +
          `d_sae ${dSae}) needs [${shape.join(', ')}]`,
      );
    }
  }
}

/** Reads the weights (shapes already checked), part by part; throws on a non-finite value. */
function readWeights(config: SaeConfig, source: TensorSource, file: string): SaeWeights {
  const { dIn, dSae, architecture } = config;
  const finite = (name: string, data: Float32Array, at: number): void => {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new SaeLoadError(file, `tensor "${name}" holds a non-finite value at ${at + i}`);
      }
    }
  };
  // Whole tensors: one part when it is small (a view of an in-memory tensor), else in parts.
  const take = (name: string): Float32Array => {
    const shape = source.shape(name) as readonly number[];
    const rows = shape[0] ?? 1;
    const row = shape.slice(1).reduce((a, b) => a * b, 1);
    const per = Math.max(1, Math.floor(READ_VALUES / Math.max(1, row)));
    if (rows <= per) {
      const data = source.rows(name, 0, rows);
      finite(name, data, 0);
      return data;
    }
    const out = new Float32Array(rows * row);
    for (let r = 0; r < rows; r += per) {
      const part = source.rows(name, r, Math.min(per, rows - r));
      finite(name, part, r * row);
      out.set(part, r * row);
    }
    return out;
  };
  // W_enc [d_in, d_sae] is read a few rows at a time into its transpose, never whole.
  const wEncT = new Float32Array(dSae * dIn);
  const per = Math.max(1, Math.floor(READ_VALUES / Math.max(1, dSae)));
  for (let i0 = 0; i0 < dIn; i0 += per) {
    const count = Math.min(per, dIn - i0);
    const part = source.rows('W_enc', i0, count);
    finite('W_enc', part, i0 * dSae);
    for (let q = 0; q < count; q++) {
      const i = i0 + q;
      const row = q * dSae;
      for (let j = 0; j < dSae; j++) wEncT[j * dIn + i] = part[row + j] ?? 0;
    }
  }
  const wDec = take('W_dec');
  const bDec = take('b_dec');
  if (architecture === 'gated') {
    const rMag = take('r_mag');
    return {
      wEncT,
      wDec,
      bDec,
      bPre: take('b_gate'),
      bMag: take('b_mag'),
      rMagExp: Float64Array.from(rMag, (v) => Math.exp(v)),
      threshold: null,
    };
  }
  return {
    wEncT,
    wDec,
    bDec,
    bPre: take('b_enc'),
    threshold: architecture === 'jumprelu' ? take('threshold') : null,
    bMag: null,
    rMagExp: null,
  };
}

export class Sae {
  readonly dIn: number;
  readonly dSae: number;
  /** Read on first use when the SAE was opened from a file (loadSae), else at construction. */
  private weights: SaeWeights | null = null;
  /** Where the weights are read from until they are. */
  private source: TensorSource | null;
  /** [d_sae] log10 feature density from sparsity.safetensors, when present. */
  readonly logDensity: Float32Array | null;
  private decNorms: Float32Array | null = null;

  /**
   * Builds an SAE from its config and weights, checking every tensor's shape against the
   * config. In-memory tensors are taken at once; a file opened by its header
   * (SafetensorsOnDisk) is read when the weights are first used (load()). `file` names the
   * weights in error messages.
   */
  constructor(
    readonly config: SaeConfig,
    tensors: SaeTensors | SafetensorsOnDisk,
    private readonly file = WEIGHTS_FILE,
    logDensity: Float32Array | null = null,
  ) {
    this.dIn = config.dIn;
    this.dSae = config.dSae;
    const source =
      tensors instanceof SafetensorsOnDisk ? diskSource(tensors) : memorySource(tensors);
    checkShapes(config, source, file);
    if (logDensity && logDensity.length !== config.dSae) {
      throw new SaeLoadError(
        SPARSITY_FILE,
        `"sparsity" has ${logDensity.length} values, expected d_sae = ${config.dSae}`,
      );
    }
    this.logDensity = logDensity;
    this.source = source;
    if (!(tensors instanceof SafetensorsOnDisk)) this.load();
  }

  /** Whether the weights have been read. */
  get loaded(): boolean {
    return this.weights !== null;
  }

  /** Reads the weights now, if they are not yet (throws SaeLoadError on a bad value). */
  load(): void {
    void this.w;
  }

  private get w(): SaeWeights {
    if (this.weights) return this.weights;
    this.weights = readWeights(this.config, this.source as TensorSource, this.file);
    this.source = null;
    return this.weights;
  }

  /**
   * How many jumprelu thresholds are negative (0 for other architectures): there a feature
   * can be active with a negative value, which SAELens's JumpReLU (pre > θ and pre > 0)
   * would not give.
   */
  negativeThresholds(): number {
    let n = 0;
    for (const t of this.w.threshold ?? []) if (t < 0) n++;
    return n;
  }

  get architecture(): SaeConfig['architecture'] {
    return this.config.architecture;
  }

  /** Feature i's decoder direction, [d_in]. A view into the weights: do not write to it. */
  decoderRow(i: number): Float32Array {
    this.checkFeature(i);
    return this.w.wDec.subarray(i * this.dIn, (i + 1) * this.dIn);
  }

  /** [d_sae] L2 norm of each decoder row (computed once). */
  decoderNorms(): Float32Array {
    if (!this.decNorms) {
      const out = new Float32Array(this.dSae);
      const wDec = this.w.wDec;
      for (let j = 0; j < this.dSae; j++) {
        let s = 0;
        const o = j * this.dIn;
        for (let c = 0; c < this.dIn; c++) {
          const w = wDec[o + c] ?? 0;
          s += w * w;
        }
        out[j] = Math.sqrt(s);
      }
      this.decNorms = out;
    }
    return this.decNorms;
  }

  /** f = encode(x): x [n, d_in] → f [n, d_sae]. */
  encode(x: Float32Array, n: number): Float32Array {
    return this.encodeWithNorm(x, n).features;
  }

  /**
   * encode, also returning the per-row input normalisation (null when the SAE normalises
   * nothing), which decode needs to map back to the input's scale.
   * x [n, d_in] → features [n, d_sae].
   */
  encodeWithNorm(x: Float32Array, n: number): { features: Float32Array; norm: InputNorm | null } {
    const { xp, norm } = this.prepareInput(x, n);
    const f = this.encoderProduct(xp, n);
    return { features: this.activatePre(f, n), norm };
  }

  /**
   * W_enc transposed, [d_sae, d_in], as a view: for a runtime that computes x' W_enc
   * elsewhere (an ONNX Gemm with transB = 1). Do not write to it.
   */
  get encoderTransposed(): Float32Array {
    return this.w.wEncT;
  }

  /**
   * The bias added to x' W_enc before the activation (b_enc; b_gate for gated SAEs), as a
   * view, for a runtime that computes the pre-activations elsewhere. Do not write to it.
   */
  get encoderBias(): Float32Array {
    return this.w.bPre;
  }

  /**
   * Turns x' W_enc (no bias), [n, d_sae], into codes f, [n, d_sae], IN PLACE, and returns
   * it: adds the bias, applies the activation, keeps the top k for topk. With
   * prepareInput, this is encode with the product computed by the caller.
   */
  activatePre(pre: Float32Array, n: number): Float32Array {
    const dSae = this.dSae;
    if (pre.length !== n * dSae) {
      throw new RangeError(`pre has ${pre.length} values, expected n × d_sae = ${n * dSae}`);
    }
    const w = this.w;
    for (let r = 0; r < n; r++) {
      const o = r * dSae;
      for (let j = 0; j < dSae; j++) pre[o + j] = this.activate(w, j, pre[o + j] ?? 0);
    }
    if (this.config.architecture === 'topk') {
      const k = this.config.k ?? dSae;
      const keep = new Uint8Array(dSae);
      const heap = new TopHeap(k);
      for (let r = 0; r < n; r++) {
        const row = pre.subarray(r * dSae, (r + 1) * dSae);
        heap.clear();
        for (let j = 0; j < dSae; j++) heap.offer(row[j] ?? 0, j);
        keep.fill(0);
        for (let s = 0; s < heap.size; s++) keep[heap.index(s)] = 1;
        for (let j = 0; j < dSae; j++) {
          const v = row[j] ?? 0;
          row[j] = keep[j] && v > 0 ? v : 0;
        }
      }
    }
    return pre;
  }

  /** x' [n, d_in] → x' W_enc [n, d_sae], no bias. */
  private encoderProduct(xp: Float32Array, n: number): Float32Array {
    const dIn = this.dIn;
    const dSae = this.dSae;
    const f = new Float32Array(n * dSae);
    const w = this.w.wEncT;
    const rowsInBlocks = n - (n % 4);
    const featuresInBlocks = dSae - (dSae % 4);
    // Register blocking, 4 features × 4 rows: each loaded x' and W value feeds four
    // multiply-adds, and 16 accumulators fit x64's 16 vector registers (about 2.5× the
    // speed of one row at a time in V8). Every (row, feature) sum still runs over c in
    // order, exactly as dot() does, so block edges never change a bit. Indices below are
    // in bounds by construction, hence the `as number` instead of a run-time check.
    for (let j = 0; j < featuresInBlocks; j += 4) {
      const w0 = j * dIn;
      const w1 = w0 + dIn;
      const w2 = w1 + dIn;
      const w3 = w2 + dIn;
      for (let r = 0; r < rowsInBlocks; r += 4) {
        const a0 = r * dIn;
        const a1 = a0 + dIn;
        const a2 = a1 + dIn;
        const a3 = a2 + dIn;
        let s00 = 0,
          s01 = 0,
          s02 = 0,
          s03 = 0;
        let s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0;
        let s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0;
        let s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0;
        for (let c = 0; c < dIn; c++) {
          const x0 = xp[a0 + c] as number;
          const x1 = xp[a1 + c] as number;
          const x2 = xp[a2 + c] as number;
          const x3 = xp[a3 + c] as number;
          let v = w[w0 + c] as number;
          s00 += x0 * v;
          s01 += x1 * v;
          s02 += x2 * v;
          s03 += x3 * v;
          v = w[w1 + c] as number;
          s10 += x0 * v;
          s11 += x1 * v;
          s12 += x2 * v;
          s13 += x3 * v;
          v = w[w2 + c] as number;
          s20 += x0 * v;
          s21 += x1 * v;
          s22 += x2 * v;
          s23 += x3 * v;
          v = w[w3 + c] as number;
          s30 += x0 * v;
          s31 += x1 * v;
          s32 += x2 * v;
          s33 += x3 * v;
        }
        const o0 = r * dSae + j;
        const o1 = o0 + dSae;
        const o2 = o1 + dSae;
        const o3 = o2 + dSae;
        f[o0] = s00;
        f[o1] = s01;
        f[o2] = s02;
        f[o3] = s03;
        f[o0 + 1] = s10;
        f[o1 + 1] = s11;
        f[o2 + 1] = s12;
        f[o3 + 1] = s13;
        f[o0 + 2] = s20;
        f[o1 + 2] = s21;
        f[o2 + 2] = s22;
        f[o3 + 2] = s23;
        f[o0 + 3] = s30;
        f[o1 + 3] = s31;
        f[o2 + 3] = s32;
        f[o3 + 3] = s33;
      }
      // Rows left over (all of them when n < 4, e.g. one token or one latent): 4 features
      // × 1 row, still four independent sums.
      for (let r = rowsInBlocks; r < n; r++)
        dot4(xp, r * dIn, w, w0, w1, w2, w3, dIn, f, r * dSae + j);
    }
    for (let j = featuresInBlocks; j < dSae; j++) {
      for (let r = 0; r < n; r++) f[r * dSae + j] = dot(xp, r * dIn, w, j * dIn, dIn);
    }
    return f;
  }

  /**
   * x'·W_enc[:, j] + b for feature j of the prepared row at xp[o …] (prepareInput), rounded as
   * encode rounds it: the product to float32, then the sum. For topk this is the value encode
   * ranks a row by (ties: the lower index first) and keeps when it is among the k largest and
   * positive (main/runtime/saeRank decides that for a few features).
   */
  preActivation(xp: Float32Array, o: number, j: number): number {
    const p = Math.fround(dot(xp, o, this.w.wEncT, j * this.dIn, this.dIn));
    return Math.fround(p + (this.w.bPre[j] ?? 0));
  }

  /**
   * preActivation(xp, o, features[s]) into out[s − from] for s in [from, to), bit for bit: four
   * features per pass over the row (each loaded x' value feeds four sums, and every sum
   * still runs over c in order, as dot() does). Features must be in range.
   */
  preActivations(
    xp: Float32Array,
    o: number,
    features: ArrayLike<number>,
    from: number,
    to: number,
    out: Float64Array,
  ): void {
    const dIn = this.dIn;
    const w = this.w.wEncT;
    const b = this.w.bPre;
    let s = from;
    for (; s + 4 <= to; s += 4) {
      const j0 = features[s] as number;
      const j1 = features[s + 1] as number;
      const j2 = features[s + 2] as number;
      const j3 = features[s + 3] as number;
      const at = s - from;
      dot4(xp, o, w, j0 * dIn, j1 * dIn, j2 * dIn, j3 * dIn, dIn, out, at);
      out[at] = Math.fround(Math.fround(out[at] as number) + (b[j0] as number));
      out[at + 1] = Math.fround(Math.fround(out[at + 1] as number) + (b[j1] as number));
      out[at + 2] = Math.fround(Math.fround(out[at + 2] as number) + (b[j2] as number));
      out[at + 3] = Math.fround(Math.fround(out[at + 3] as number) + (b[j3] as number));
    }
    for (; s < to; s++) out[s - from] = this.preActivation(xp, o, features[s] as number);
  }

  /**
   * The activations of a few features only: x [n, d_in] → [n, m] for `features` (length m).
   * For standard, jumprelu and gated this costs m columns instead of d_sae; topk ranks the
   * whole row only where a chosen feature's pre-activation is positive. Same bits as
   * encode for every row, whatever the batch.
   */
  encodeFeatures(
    x: Float32Array,
    n: number,
    features: readonly number[],
  ): { values: Float32Array; norm: InputNorm | null } {
    for (const j of features) this.checkFeature(j);
    const dIn = this.dIn;
    const dSae = this.dSae;
    const m = features.length;
    const out = new Float32Array(n * m);
    const topk = this.config.architecture === 'topk';
    const w = this.w;
    const { xp, norm } = this.prepareInput(x, n);
    // For topk, a feature whose pre-activation is ≤ 0 is 0 whatever the rest of the row
    // does; only rows where a chosen feature is positive need the whole row ranked.
    const rankRows: number[] = [];
    for (let r = 0; r < n; r++) {
      let rank = false;
      for (let s = 0; s < m; s++) {
        const j = features[s] ?? 0;
        // Rounded to float32 as encode stores x' W_enc, so both give the same bits.
        const v = this.activate(w, j, Math.fround(dot(xp, r * dIn, w.wEncT, j * dIn, dIn)));
        if (topk) rank ||= v > 0;
        else out[r * m + s] = v;
      }
      if (rank) rankRows.push(r);
    }
    if (rankRows.length > 0) {
      const sub = new Float32Array(rankRows.length * dIn);
      rankRows.forEach((r, q) => sub.set(xp.subarray(r * dIn, (r + 1) * dIn), q * dIn));
      const f = this.activatePre(this.encoderProduct(sub, rankRows.length), rankRows.length);
      rankRows.forEach((r, q) => {
        for (let s = 0; s < m; s++) out[r * m + s] = f[q * dSae + (features[s] ?? 0)] ?? 0;
      });
    }
    return { values: out, norm };
  }

  /**
   * x̂ = decode(f): f [n, d_sae] → x̂ [n, d_in]. Pass the `norm` from encodeWithNorm to get
   * x̂ on the input's scale; without it (or when the SAE normalises nothing) the result is
   * f W_dec + b_dec.
   */
  decode(f: Float32Array, n: number, norm: InputNorm | null = null): Float32Array {
    const dIn = this.dIn;
    const dSae = this.dSae;
    if (f.length !== n * dSae) {
      throw new RangeError(`decode: f has ${f.length} values, expected n × d_sae = ${n * dSae}`);
    }
    const out = new Float32Array(n * dIn);
    const acc = new Float64Array(dIn);
    const active = new Int32Array(dSae);
    const { wDec: w, bDec } = this.w;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < dIn; c++) acc[c] = bDec[c] ?? 0;
      const fo = r * dSae;
      // Codes are sparse: list the active features, then add their decoder rows four at a
      // time (one read-modify-write of the accumulator per four rows).
      let m = 0;
      for (let j = 0; j < dSae; j++) if (f[fo + j] !== 0) active[m++] = j;
      let q = 0;
      for (; q + 3 < m; q += 4) {
        const j0 = active[q] as number;
        const j1 = active[q + 1] as number;
        const j2 = active[q + 2] as number;
        const j3 = active[q + 3] as number;
        const c0 = f[fo + j0] as number;
        const c1 = f[fo + j1] as number;
        const c2 = f[fo + j2] as number;
        const c3 = f[fo + j3] as number;
        const o0 = j0 * dIn;
        const o1 = j1 * dIn;
        const o2 = j2 * dIn;
        const o3 = j3 * dIn;
        for (let c = 0; c < dIn; c++) {
          acc[c] =
            (acc[c] as number) +
            c0 * (w[o0 + c] as number) +
            c1 * (w[o1 + c] as number) +
            c2 * (w[o2 + c] as number) +
            c3 * (w[o3 + c] as number);
        }
      }
      for (; q < m; q++) {
        const j = active[q] as number;
        const a = f[fo + j] as number;
        const o = j * dIn;
        for (let c = 0; c < dIn; c++) acc[c] = (acc[c] as number) + a * (w[o + c] as number);
      }
      const scale = norm ? (norm.outScale[r] ?? 1) : 1;
      const shift = norm ? (norm.shift[r] ?? 0) : 0;
      const oo = r * dIn;
      for (let c = 0; c < dIn; c++) out[oo + c] = (acc[c] as number) * scale + shift;
    }
    return out;
  }

  /**
   * What is active: the top `k` non-zero features of each row, largest activation first
   * (ties: lower index first). x [n, d_in] → SparseCodes with [n, k] slots.
   */
  encodeSparse(x: Float32Array, n: number, k: number): SparseCodes {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`encodeSparse: k = ${k} is not ≥ 1`);
    const kk = Math.min(k, this.dSae);
    const f = this.encode(x, n);
    const indices = new Int32Array(n * kk).fill(-1);
    const values = new Float32Array(n * kk);
    const counts = new Int32Array(n);
    const heap = new TopHeap(kk);
    const order: number[] = [];
    for (let r = 0; r < n; r++) {
      const fo = r * this.dSae;
      heap.clear();
      for (let j = 0; j < this.dSae; j++) {
        const v = f[fo + j] ?? 0;
        if (v !== 0) heap.offer(v, j);
      }
      order.length = 0;
      for (let s = 0; s < heap.size; s++) order.push(s);
      order.sort((a, b) => heap.value(b) - heap.value(a) || heap.index(a) - heap.index(b));
      counts[r] = order.length;
      for (let s = 0; s < order.length; s++) {
        const slot = order[s] ?? 0;
        indices[r * kk + s] = heap.index(slot);
        values[r * kk + s] = heap.value(slot);
      }
    }
    return { n, k: kk, indices, values, counts };
  }

  /** Throws unless i is a feature index of this SAE. */
  checkFeature(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.dSae) {
      throw new RangeError(`feature ${i} is not in 0…${this.dSae - 1}`);
    }
  }

  /** Activation of feature j given p = x' · W_enc[:, j] (no bias yet). */
  private activate(w: SaeWeights, j: number, p: number): number {
    const pre = p + (w.bPre[j] ?? 0);
    switch (this.config.architecture) {
      case 'standard':
        return pre > 0 ? pre : 0;
      case 'topk':
        return pre; // selection and ReLU happen per row in activatePre
      case 'jumprelu':
        return pre > (w.threshold?.[j] ?? 0) ? pre : 0;
      case 'gated': {
        if (!(pre > 0)) return 0;
        const mag = p * (w.rMagExp?.[j] ?? 1) + (w.bMag?.[j] ?? 0);
        return mag > 0 ? mag : 0;
      }
    }
  }

  /**
   * x [n, d_in] → x' [n, d_in] (each row's mean over d_in subtracted first when the cfg has
   * center_writing_weights, normalised, b_dec subtracted when the cfg says so) and the
   * per-row norm that decode needs. Throws on a wrong size or a non-finite value.
   */
  prepareInput(x: Float32Array, n: number): { xp: Float32Array; norm: InputNorm | null } {
    const dIn = this.dIn;
    if (!Number.isInteger(n) || n < 0 || x.length !== n * dIn) {
      throw new RangeError(`x has ${x.length} values, expected n × d_in = ${n} × ${dIn}`);
    }
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) {
        throw new RangeError(
          `input row ${Math.floor(i / dIn)}, column ${i % dIn} is ${x[i]}, not a finite number`,
        );
      }
    }
    const xs = this.config.centerInput ? centerRows(x, n, dIn) : x;
    const norm = this.rowNorm(xs, n);
    const xp = new Float32Array(n * dIn);
    const sub = this.config.applyBDecToInput;
    const bDec = sub ? this.w.bDec : null;
    for (let r = 0; r < n; r++) {
      const s = norm ? (norm.inScale[r] ?? 1) : 1;
      const sh = norm ? (norm.shift[r] ?? 0) : 0;
      const o = r * dIn;
      for (let c = 0; c < dIn; c++) {
        const v = ((xs[o + c] ?? 0) - sh) * s;
        xp[o + c] = bDec ? v - (bDec[c] ?? 0) : v;
      }
    }
    return { xp, norm };
  }

  private rowNorm(x: Float32Array, n: number): InputNorm | null {
    const mode = this.config.normalizeActivations;
    if (mode === 'none' || mode === 'expected_average_only_in') return null;
    const dIn = this.dIn;
    const norm: InputNorm = {
      inScale: new Float64Array(n),
      outScale: new Float64Array(n),
      shift: new Float64Array(n),
    };
    for (let r = 0; r < n; r++) {
      const o = r * dIn;
      if (mode === 'constant_norm_rescale') {
        let ss = 0;
        for (let c = 0; c < dIn; c++) ss += (x[o + c] ?? 0) ** 2;
        const len = Math.sqrt(ss);
        // A zero row has no direction to rescale; leave it as it is.
        const coeff = len > 0 ? Math.sqrt(dIn) / len : 1;
        norm.inScale[r] = coeff;
        norm.outScale[r] = 1 / coeff;
      } else {
        let mean = 0;
        for (let c = 0; c < dIn; c++) mean += x[o + c] ?? 0;
        mean /= dIn;
        let ss = 0;
        for (let c = 0; c < dIn; c++) ss += ((x[o + c] ?? 0) - mean) ** 2;
        const std = dIn > 1 ? Math.sqrt(ss / (dIn - 1)) : 0;
        norm.shift[r] = mean;
        norm.inScale[r] = 1 / (std + 1e-5);
        norm.outScale[r] = std;
      }
    }
    return norm;
  }
}

/** Each row of x [n, d] minus its mean (summed in float64), as a new array. */
function centerRows(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    let sum = 0;
    for (let c = 0; c < d; c++) sum += x[o + c] ?? 0;
    const mean = sum / d;
    for (let c = 0; c < d; c++) out[o + c] = (x[o + c] ?? 0) - mean;
  }
  return out;
}

/**
 * Σ a[ao + c] · b[bo + c] for c < len, summed in order in float64: the same operations, in
 * the same order, as the four-row loop of encoderProduct, so a row's code never depends on
 * which batch it was encoded in. (A float32 × float32 product is exact in float64.)
 */
/**
 * Four dot products of one row (a[ao …]) with four weight rows (b[b0 …] … b[b3 …]) in one
 * pass over the row, each summed over c in order as dot() sums, into out[at … at + 3] (a
 * Float32Array rounds them there, as encode's sums are; a Float64Array keeps them exact).
 */
function dot4(
  a: Float32Array,
  ao: number,
  b: Float32Array,
  b0: number,
  b1: number,
  b2: number,
  b3: number,
  len: number,
  out: Float32Array | Float64Array,
  at: number,
): void {
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  for (let c = 0; c < len; c++) {
    const x = a[ao + c] as number;
    t0 += x * (b[b0 + c] as number);
    t1 += x * (b[b1 + c] as number);
    t2 += x * (b[b2 + c] as number);
    t3 += x * (b[b3 + c] as number);
  }
  out[at] = t0;
  out[at + 1] = t1;
  out[at + 2] = t2;
  out[at + 3] = t3;
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, len: number): number {
  let s = 0;
  for (let c = 0; c < len; c++) s += (a[ao + c] ?? 0) * (b[bo + c] ?? 0);
  return s;
}

/**
 * A bounded min-heap keeping the k largest (value, index) pairs offered. On equal values
 * the lower index wins, so selection is deterministic.
 */
class TopHeap {
  private readonly vals: Float64Array;
  private readonly idx: Int32Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.vals = new Float64Array(capacity);
    this.idx = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  value(slot: number): number {
    return this.vals[slot] ?? 0;
  }

  index(slot: number): number {
    return this.idx[slot] ?? 0;
  }

  /** a ranks below b: smaller value, or same value and higher index. */
  private below(a: number, b: number): boolean {
    const va = this.vals[a] ?? 0;
    const vb = this.vals[b] ?? 0;
    return va < vb || (va === vb && (this.idx[a] ?? 0) > (this.idx[b] ?? 0));
  }

  offer(v: number, i: number): void {
    if (this.size < this.capacity) {
      let s = this.size++;
      this.vals[s] = v;
      this.idx[s] = i;
      while (s > 0) {
        const p = (s - 1) >> 1;
        if (!this.below(s, p)) break;
        this.swap(s, p);
        s = p;
      }
      return;
    }
    const rootV = this.vals[0] ?? 0;
    // Offered in increasing index order, so an equal value never displaces the root.
    if (!(v > rootV)) return;
    this.vals[0] = v;
    this.idx[0] = i;
    let s = 0;
    for (;;) {
      const l = 2 * s + 1;
      const r = l + 1;
      let m = s;
      if (l < this.size && this.below(l, m)) m = l;
      if (r < this.size && this.below(r, m)) m = r;
      if (m === s) break;
      this.swap(s, m);
      s = m;
    }
  }

  private swap(a: number, b: number): void {
    const v = this.vals[a] ?? 0;
    this.vals[a] = this.vals[b] ?? 0;
    this.vals[b] = v;
    const i = this.idx[a] ?? 0;
    this.idx[a] = this.idx[b] ?? 0;
    this.idx[b] = i;
  }
}

/**
 * Loads an SAE folder (cfg.json + sae_weights.safetensors, + sparsity.safetensors if there).
 * `expect.dIn` is the width of the model activation it will read: a mismatch is an error.
 * Errors name the file.
 */
/**
 * Opens the SAE in `dir`: cfg.json, the weights' header (every tensor's shape checked against
 * the config) and sparsity.safetensors; the weights themselves at once up to
 * `readAtOnceBytes` (READ_AT_ONCE_BYTES), else on first use (Sae.load).
 */
export async function loadSae(
  dir: string,
  expect: { dIn?: number; readAtOnceBytes?: number } = {},
): Promise<Sae> {
  const cfgPath = path.join(dir, CFG_FILE);
  const weightsPath = path.join(dir, WEIGHTS_FILE);
  const sparsityPath = path.join(dir, SPARSITY_FILE);
  let cfgText: string;
  try {
    const st = await fs.stat(cfgPath);
    if (st.size > MAX_CFG_BYTES) {
      throw new SaeLoadError(cfgPath, `is ${st.size} bytes; the limit is ${MAX_CFG_BYTES}`);
    }
    cfgText = await fs.readFile(cfgPath, 'utf8');
  } catch (e) {
    if (e instanceof SaeLoadError) throw e;
    throw new SaeLoadError(cfgPath, `cannot be read (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(cfgText);
  } catch (e) {
    throw new SaeLoadError(cfgPath, `is not valid JSON (${(e as Error).message})`);
  }
  const config = parseSaeConfig(raw, cfgPath);
  if (expect.dIn !== undefined && expect.dIn !== config.dIn) {
    throw new SaeLoadError(
      cfgPath,
      `d_in is ${config.dIn}, but the model's activation at this hook has width ${expect.dIn}`,
    );
  }
  let weights: SafetensorsOnDisk;
  try {
    weights = SafetensorsOnDisk.open(weightsPath);
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    throw new SaeLoadError(weightsPath, `cannot be read (${(e as Error).message})`);
  }
  let logDensity: Float32Array | null = null;
  if (await exists(sparsityPath)) {
    const sparsity = SafetensorsFile.parse(await readBytes(sparsityPath), sparsityPath);
    if (sparsity.has('sparsity')) logDensity = sparsity.tensor('sparsity').data;
  }
  const sae = new Sae(config, weights, weightsPath, logDensity);
  if (weights.size <= (expect.readAtOnceBytes ?? READ_AT_ONCE_BYTES)) sae.load();
  return sae;
}

/**
 * SAE weights up to this many bytes are read when the SAE is opened (every shipped pack's);
 * larger ones when first used: opening a pack (runtime.open, at start-up beside the galaxy)
 * then reads a 1M-feature SAE's header, not its 1 GiB of weights (measured on the synthetic
 * 1M SAE: 38–45 s of CPU and 4.3 GB peak RSS at open, load ~20 on 2 cores).
 */
export const READ_AT_ONCE_BYTES = 64 * 2 ** 20;

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (e) {
    throw new SaeLoadError(file, `cannot be read (${(e as Error).message})`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
