/**
 * Replies of every API call: `{ ok: true, value }` or `{ ok: false, error: { code, message } }`.
 * Pure module: imports neither Node nor the DOM.
 */
import { z } from 'zod';
import { errorCodes, type ErrorCode } from './errors';

export { errorCodes, OrreryError, type ErrorCode } from './errors';

export const ErrorCodeSchema = z.enum(errorCodes);

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
