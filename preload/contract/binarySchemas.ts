/**
 * Schemas for the typed arrays a call's input or output carries (binary.ts sends them in
 * frames). Apart from binary.ts, which has no zod: the page reads frames without building the
 * contract's schemas (issue 19's cold start).
 */
import { z } from 'zod';

/** A schema for bytes in a call's input or output (a Uint8Array; sizes are checked by the call). */
export const bytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes');

/** A schema for a Float32Array (map positions, tensors). */
export const float32Schema = z.custom<Float32Array>(
  (v) => v instanceof Float32Array,
  'must be a Float32Array',
);
