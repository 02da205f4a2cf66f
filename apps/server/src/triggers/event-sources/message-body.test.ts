import { describe, expect, it } from 'vitest';
import { decodeMessageBody } from './message-body';

describe('decodeMessageBody', () => {
  it('parses JSON, whatever its type', () => {
    expect(decodeMessageBody(Buffer.from('{"a":[1,2]}'))).toEqual({ body: { a: [1, 2] }, encoding: 'json' });
    expect(decodeMessageBody(Buffer.from('42'))).toEqual({ body: 42, encoding: 'json' });
    expect(decodeMessageBody(Buffer.from('"text"'))).toEqual({ body: 'text', encoding: 'json' });
  });

  it('keeps other UTF-8 as text, dropping a byte-order mark', () => {
    expect(decodeMessageBody(Buffer.from('héllo {'))).toEqual({ body: 'héllo {', encoding: 'text' });
    expect(decodeMessageBody(Buffer.from('\uFEFFplain'))).toEqual({ body: 'plain', encoding: 'text' });
  });

  it('gives bytes that are not UTF-8 as { base64 }, and an empty body as null', () => {
    expect(decodeMessageBody(Uint8Array.from([0xff, 0x00, 0x80]))).toEqual({ body: { base64: '/wCA' }, encoding: 'base64' });
    expect(decodeMessageBody(new Uint8Array())).toEqual({ body: null, encoding: 'empty' });
  });
});
