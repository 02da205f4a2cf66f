import { ConnectorError } from '@automateiq/connector-kit';

/**
 * Reads a response body, failing with the fatal `RESPONSE_TOO_LARGE` as soon as it exceeds `maxBytes`
 * (by its `Content-Length`, or while streaming), and cancelling the rest.
 */
export async function readCappedBody(response: Response, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (size: string) =>
    ConnectorError.fatal('RESPONSE_TOO_LARGE', `the response body is ${size}, more than ${maxBytes} bytes`, {
      maxBytes,
    });
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(`${declared} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge('larger');
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
