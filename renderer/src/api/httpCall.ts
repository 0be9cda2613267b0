/**
 * The page's side of the HTTP door for bulk replies (preload/contract/httpCalls.ts): the call
 * message POSTed with the launch token in a header, the reply read back from the body (an ORB1
 * frame or JSON), typed arrays as views of the one response buffer.
 */
import type { Result, ServerMessage } from '../../../preload/contract';
import { decodeFrame } from '../../../preload/contract/binary';
import { HTTP_CALL_PATH, TOKEN_HEADER } from '../../../preload/contract/httpCalls';

const unavailable = (message: string): Result<unknown> => ({
  ok: false,
  error: { code: 'unavailable', message },
});

/**
 * The response's body. With its length known, read as it arrives into one buffer of that size:
 * 9 MiB (a million map positions) came ~15 ms sooner than through arrayBuffer() in chromium
 * (median of 8, 28.7 against 46 ms from the request).
 */
async function readBody(res: Response): Promise<Uint8Array> {
  const length = Number(res.headers.get('content-length'));
  if (!res.body || !Number.isSafeInteger(length) || length <= 0)
    return new Uint8Array(await res.arrayBuffer());
  const out = new Uint8Array(length);
  const reader = res.body.getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.byteLength > length) throw new Error('the body is longer than it said');
    out.set(value, at);
    at += value.byteLength;
  }
  if (at !== length) throw new Error('the body ended early');
  return out;
}

export async function httpCall(
  origin: string,
  token: string,
  id: number,
  name: string,
  input: unknown,
): Promise<Result<unknown>> {
  let res: Response;
  try {
    res = await fetch(`${origin}${HTTP_CALL_PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: token },
      body: JSON.stringify({ type: 'call', id, call: name, input }),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    return unavailable('cannot reach the Orrery server');
  }
  let message: ServerMessage;
  try {
    const body = await readBody(res);
    message = (
      (res.headers.get('content-type') ?? '').startsWith('application/octet-stream')
        ? decodeFrame(body)
        : JSON.parse(new TextDecoder().decode(body))
    ) as ServerMessage;
  } catch {
    return unavailable(`${name}: the server's reply could not be read (HTTP ${res.status})`);
  }
  if (message.type !== 'reply') return unavailable(`${name}: the server sent no reply`);
  return message.result;
}
