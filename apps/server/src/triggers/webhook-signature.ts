import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old a signature's timestamp may be (either way), in seconds. Default of `verifyWebhookSignature`: 300. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks an `X-AIQ-Signature` header (Stripe-style: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>">`, several `v1` allowed while a secret is rotated) against the raw body and the
 * secret. A timestamp more than `toleranceSeconds` from `nowMs` is refused, so a captured request
 * cannot be replayed later. Comparisons are constant-time.
 */
export function verifyWebhookSignature(args: {
  header: string | undefined;
  body: Buffer;
  secret: string;
  nowMs: number;
  toleranceSeconds?: number;
}): SignatureCheck {
  if (!args.header) return { ok: false, reason: 'the X-AIQ-Signature header is missing' };
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of args.header.split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0)
    return { ok: false, reason: 'X-AIQ-Signature must be t=<unix seconds>,v1=<hex HMAC-SHA256>' };
  const tolerance = args.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(args.nowMs / 1000 - Number(timestamp)) > tolerance)
    return { ok: false, reason: `the signature's timestamp is more than ${tolerance} s from now` };
  const expected = signWebhook({ timestamp: Number(timestamp), body: args.body, secret: args.secret });
  const wanted = Buffer.from(expected, 'hex');
  const matches = signatures.some((candidate) => {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) return false;
    return timingSafeEqual(Buffer.from(candidate, 'hex'), wanted);
  });
  return matches ? { ok: true } : { ok: false, reason: 'the signature does not match the body' };
}

/** The hex `v1` signature of a body at a time: what a sender computes. */
export function signWebhook(args: { timestamp: number; body: Buffer | string; secret: string }): string {
  return createHmac('sha256', args.secret).update(`${args.timestamp}.`).update(args.body).digest('hex');
}

/** A whole `X-AIQ-Signature` header for a body sent now (for senders and tests). */
export function webhookSignatureHeader(args: { body: Buffer | string; secret: string; nowMs: number }): string {
  const timestamp = Math.floor(args.nowMs / 1000);
  return `t=${timestamp},v1=${signWebhook({ timestamp, body: args.body, secret: args.secret })}`;
}
