import { describe, expect, it } from 'vitest';
import { parseWebhookBody } from './webhook-body';

const json = ['application/json'];

describe('webhook bodies as run input', () => {
  it('parses JSON, with parameters and case in the media type', () => {
    expect(parseWebhookBody({ contentType: 'Application/JSON; charset=utf-8', body: Buffer.from('{"a":[1]}'), allowed: json })).toEqual({
      ok: true,
      input: { a: [1] },
    });
  });

  it('refuses a media type the trigger does not accept, and says which it accepts', () => {
    expect(parseWebhookBody({ contentType: 'text/plain', body: Buffer.from('hi'), allowed: json })).toEqual({
      ok: false,
      code: 'unsupported',
      message: 'the webhook accepts application/json, not text/plain',
    });
    expect(parseWebhookBody({ contentType: undefined, body: Buffer.from('{}'), allowed: json })).toMatchObject({ ok: false, code: 'unsupported' });
  });

  it('answers malformed JSON as such', () => {
    expect(parseWebhookBody({ contentType: 'application/json', body: Buffer.from('{"a":'), allowed: json })).toMatchObject({
      ok: false,
      code: 'malformed',
    });
  });

  it('reads forms (repeated fields as arrays), text, and bytes that are not UTF-8', () => {
    const allowed = ['application/x-www-form-urlencoded', 'text/xml', 'application/octet-stream'];
    expect(parseWebhookBody({ contentType: 'application/x-www-form-urlencoded', body: Buffer.from('a=1&b=x%20y&a=2'), allowed })).toEqual({
      ok: true,
      input: { a: ['1', '2'], b: 'x y' },
    });
    expect(parseWebhookBody({ contentType: 'text/xml', body: Buffer.from('<a/>'), allowed })).toEqual({ ok: true, input: '<a/>' });
    expect(parseWebhookBody({ contentType: 'application/octet-stream', body: Buffer.from([0xff, 0xfe, 0x00]), allowed })).toEqual({
      ok: true,
      input: { base64: '//4A' },
    });
  });

  it('takes an empty body as null whatever its type', () => {
    expect(parseWebhookBody({ contentType: undefined, body: undefined, allowed: json })).toEqual({ ok: true, input: null });
  });
});
