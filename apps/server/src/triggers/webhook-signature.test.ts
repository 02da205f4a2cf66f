import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature, webhookSignatureHeader } from './webhook-signature';

const secret = 'whsec_test';
const body = Buffer.from('{"order":42}');
const now = Date.UTC(2026, 10, 22, 12, 0, 0);

describe('webhook signatures (X-AIQ-Signature)', () => {
  it('accepts a signature of the body made now, and one made within the tolerance', () => {
    expect(verifyWebhookSignature({ header: webhookSignatureHeader({ body, secret, nowMs: now }), body, secret, nowMs: now })).toEqual({ ok: true });
    const old = webhookSignatureHeader({ body, secret, nowMs: now - 299_000 });
    expect(verifyWebhookSignature({ header: old, body, secret, nowMs: now }).ok).toBe(true);
  });

  it('refuses a replay older than the tolerance, and a timestamp from the future', () => {
    const replay = webhookSignatureHeader({ body, secret, nowMs: now - 301_000 });
    expect(verifyWebhookSignature({ header: replay, body, secret, nowMs: now })).toEqual({
      ok: false,
      reason: "the signature's timestamp is more than 300 s from now",
    });
    const future = webhookSignatureHeader({ body, secret, nowMs: now + 400_000 });
    expect(verifyWebhookSignature({ header: future, body, secret, nowMs: now }).ok).toBe(false);
  });

  it('refuses another body, another secret, a missing or malformed header', () => {
    const header = webhookSignatureHeader({ body, secret, nowMs: now });
    expect(verifyWebhookSignature({ header, body: Buffer.from('{"order":43}'), secret, nowMs: now }).ok).toBe(false);
    expect(verifyWebhookSignature({ header, body, secret: 'other', nowMs: now }).ok).toBe(false);
    expect(verifyWebhookSignature({ header: undefined, body, secret, nowMs: now })).toEqual({ ok: false, reason: 'the X-AIQ-Signature header is missing' });
    for (const bad of ['v1=abc', 't=abc,v1=00', `t=${now / 1000}`, 't=1,v1=zz', '']) {
      expect(verifyWebhookSignature({ header: bad, body, secret, nowMs: now }).ok).toBe(false);
    }
  });

  it('accepts any of several v1 signatures (a secret being rotated)', () => {
    const t = now / 1000;
    const header = `t=${t},v1=${signWebhook({ timestamp: t, body, secret: 'old' })},v1=${signWebhook({ timestamp: t, body, secret })}`;
    expect(verifyWebhookSignature({ header, body, secret, nowMs: now }).ok).toBe(true);
  });
});
