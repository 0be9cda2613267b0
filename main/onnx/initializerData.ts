/**
 * Reads one float32 initializer's values from an ONNX model file: inline (raw_data or
 * float_data) or in an external data file beside the model (location, offset, length). For
 * checks that recompute a hook from the graph's own weights (attn.hook_z through the output
 * projection); the surgery itself never reads weights.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OrreryError } from '../../preload/contract/result';
import { scanFields } from '../runtime/protobuf';
import { GRAPH_INITIALIZER, MODEL_GRAPH } from './graph';

const utf8 = new TextDecoder();

/** Little-endian float32s of `bytes` (copied, so any alignment works). */
function floatsOf(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/** The values of float32 initializer `name` of the model in `modelFile`. */
export function readInitializerFloats(modelFile: string, name: string): Float32Array {
  const model = readFileSync(modelFile);
  for (const f of scanFields(model)) {
    if (f.n !== MODEL_GRAPH || !f.value) continue;
    for (const gf of scanFields(f.value)) {
      if (gf.n !== GRAPH_INITIALIZER || !gf.value) continue;
      // TensorProto: data_type 2, float_data 4, name 8, raw_data 9, external_data 13
      let found = '';
      let type = 0;
      let raw: Uint8Array | null = null;
      let packed: Uint8Array | null = null;
      const ext = new Map<string, string>();
      for (const t of scanFields(gf.value)) {
        if (t.n === 8 && t.value) found = utf8.decode(t.value);
        else if (t.n === 2 && t.varint !== undefined) type = t.varint;
        else if (t.n === 9 && t.value) raw = t.value;
        else if (t.n === 4 && t.value) packed = t.value;
        else if (t.n === 13 && t.value) {
          let key = '';
          let value = '';
          for (const e of scanFields(t.value)) {
            if (e.n === 1 && e.value) key = utf8.decode(e.value);
            if (e.n === 2 && e.value) value = utf8.decode(e.value);
          }
          ext.set(key, value);
        }
      }
      if (found !== name) continue;
      if (type !== 1) {
        throw new OrreryError('bad_input', `Initializer '${name}' is not float32 (type ${type}).`);
      }
      const location = ext.get('location');
      if (location) {
        const data = readFileSync(path.join(path.dirname(modelFile), location));
        const offset = Number(ext.get('offset') ?? 0);
        const length = Number(ext.get('length') ?? data.length - offset);
        return floatsOf(data.subarray(offset, offset + length));
      }
      return floatsOf(raw ?? packed ?? new Uint8Array());
    }
  }
  throw new OrreryError('bad_input', `${modelFile} has no initializer '${name}'.`);
}
