/**
 * Replies of every API call: `{ ok: true, value }` or `{ ok: false, error: { code, message } }`.
 * Pure module: imports neither Node nor the DOM.
 */
import { z } from 'zod';

export const errorCodes = [
  'invalid_request', // the message itself is malformed (not JSON, wrong envelope)
  'unknown_call', // the call name is not in the contract
  'bad_input', // the payload failed the call's schema
  'not_found', // a pack, feature or file named by the payload does not exist
  'bad_pack', // a pack or file failed validation
  'cancelled', // the caller cancelled the job
  'too_large', // a message, file or value is over a limit of the limit table (the message names it)
  'forbidden', // a path outside what the person allowed, or a socket without the token
  'unavailable', // a runtime part (ONNX, SQLite) could not be used
  'internal', // a bug: the message says what failed
] as const;

export const ErrorCodeSchema = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ApiErrorSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

/** A thrown error that carries an API error code; services throw it for expected failures. */
export class OrreryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OrreryError';
  }
}
