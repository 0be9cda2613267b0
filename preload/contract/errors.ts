/**
 * The API's error codes and the error services throw, without the schemas (result.ts adds
 * those): threads that only read, such as the index readers, take these without loading zod.
 * Pure module: imports neither Node nor the DOM.
 */
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

export type ErrorCode = (typeof errorCodes)[number];

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
