/**
 * The page's side of the HTTP door for bulk replies (preload/contract/httpCalls.ts): the call
 * message POSTed with the launch token in a header, the reply read back from the body (an ORB1
 * frame or JSON), typed arrays as views of the one response buffer.
 */
import {
  decodeFrame,
  HTTP_CALL_PATH,
  TOKEN_HEADER,
  type Result,
  type ServerMessage,
} from '../../../preload/contract';

const unavailable = (message: string): Result<unknown> => ({
  ok: false,
  error: { code: 'unavailable', message },
});

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
    const body = await res.arrayBuffer();
    message = (
      (res.headers.get('content-type') ?? '').startsWith('application/octet-stream')
        ? decodeFrame(new Uint8Array(body))
        : JSON.parse(new TextDecoder().decode(body))
    ) as ServerMessage;
  } catch {
    return unavailable(`${name}: the server's reply could not be read (HTTP ${res.status})`);
  }
  if (message.type !== 'reply') return unavailable(`${name}: the server sent no reply`);
  return message.result;
}
