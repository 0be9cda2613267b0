/**
 * a · bᵀ on onnxruntime (one Gemm node built in code): the index build's heavy products
 * (x' W_enc over the corpus, decoder cosines for the map) run in ORT's MLAS kernels instead of
 * JS loops. a [n, k], b [m, k] → [n, m].
 */
import { OnnxSession } from '../../runtime/onnx';
import { buildModel } from '../../runtime/onnxGraph';

/**
 * Output floats per product the layout's blocked searches aim for (2 MiB). Measured on the
 * index build's shapes (rows × 1024 centroids × 256 dims, one thread, load ~15): 15,625-row
 * blocks (64 MB out) 13-19 GFLOP/s of CPU, 2,048 rows 33-70, 512 rows 75-111 — a large output
 * costs more in fresh memory than its product.
 */
export const GEMM_OUT_FLOATS = 1 << 19;

export class Gemm {
  private constructor(private readonly onnx: OnnxSession) {}

  static async create(threads = 1): Promise<Gemm> {
    const model = buildModel({
      name: 'orrery_index_gemm',
      inputs: [
        { name: 'a', type: 'float32', shape: ['n', 'k'] },
        { name: 'b', type: 'float32', shape: ['m', 'k'] },
      ],
      outputs: [{ name: 'y', type: 'float32', shape: ['n', 'm'] }],
      nodes: [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], intAttrs: { transB: 1 } }],
      initializers: [],
    });
    return new Gemm(await OnnxSession.create(model, { intraOpThreads: threads }));
  }

  /** a [n, k] · b [m, k]ᵀ → [n, m] */
  async abt(
    a: Float32Array,
    n: number,
    b: Float32Array,
    m: number,
    k: number,
  ): Promise<Float32Array> {
    if (a.length !== n * k || b.length !== m * k) {
      throw new RangeError(
        `gemm: a has ${a.length} (want ${n}×${k}), b has ${b.length} (want ${m}×${k})`,
      );
    }
    if (n === 0 || m === 0) return new Float32Array(n * m);
    const out = await this.onnx.run({ a: { dims: [n, k], data: a }, b: { dims: [m, k], data: b } });
    const y = out.y;
    if (!y || !(y.data instanceof Float32Array)) throw new Error('gemm gave no output');
    return y.data;
  }

  async dispose(): Promise<void> {
    await this.onnx.release();
  }
}
