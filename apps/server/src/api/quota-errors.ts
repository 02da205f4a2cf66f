import { ApiError } from './api-error';

/** A payload larger than the plan's maxPayloadBytes. */
export function payloadTooLarge(what: string, bytes: number, limit: number): ApiError {
  return new ApiError('AIQ_PAYLOAD_TOO_LARGE', `${what} is ${bytes} bytes; the plan's maxPayloadBytes is ${limit}`, {
    extensions: { quota: 'maxPayloadBytes', limit },
    errors: [{ path: what, message: `larger than ${limit} bytes (maxPayloadBytes)` }],
  });
}

/** Bytes of a JSON value as stored. */
export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}
