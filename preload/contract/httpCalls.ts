/**
 * Calls whose replies are bulk bytes go, in headless mode, over a plain HTTP request instead of
 * the API socket (issue 14): chromium reads a WebSocket message at ~40 MB/s on a busy machine
 * and a fetch body at about 2.5× that, and the page needs no open socket to ask. The request
 * body is the socket's call message (JSON), the response body the socket's reply (JSON, or an
 * ORB1 frame when it carries typed arrays: binary.ts), so both doors share the envelope, the
 * dispatcher and the limit table. Kept free of zod.
 */

/** Where the page POSTs such a call. */
export const HTTP_CALL_PATH = '/api/call';

/** The header that carries the launch token (never the URL, which logs may keep). */
export const TOKEN_HEADER = 'x-orrery-token';

/** The calls the HTTP door takes: reads that answer with large typed arrays. */
export const httpCalls: ReadonlySet<string> = new Set(['index.map']);
