import { describe, expect, it } from 'vitest';
import { createSecretMask, MASK } from './secret-mask';

describe('createSecretMask', () => {
  it('masks secrets in text, also URL-, form- and JSON-encoded, longest first', () => {
    const mask = createSecretMask(['p@ss word', 'abc', 'abcdef']);
    expect(mask.text('x p@ss word y')).toBe(`x ${MASK} y`);
    expect(mask.text('?k=p%40ss%20word')).toBe(`?k=${MASK}`);
    expect(mask.text('k=p%40ss+word')).toBe(`k=${MASK}`);
    expect(mask.text('abcdef and abc')).toBe(`${MASK} and ${MASK}`);
    expect(createSecretMask(['say "hi"']).text(JSON.stringify({ a: 'say "hi"' }))).toBe(`{"a":"${MASK}"}`);
  });

  it('masks every string of a JSON-like value, keys included, without changing the original', () => {
    const mask = createSecretMask(['s3cret']);
    const value = { a: ['s3cret', 1, true, null], s3cret: { b: 'x-s3cret-y' } };
    expect(mask.value(value)).toEqual({ a: [MASK, 1, true, null], [MASK]: { b: `x-${MASK}-y` } });
    expect(value.a[0]).toBe('s3cret');
    const error = mask.value(new Error('bad s3cret'));
    expect(error.message).toBe(`bad ${MASK}`);
    const date = new Date(0);
    expect(mask.value({ date }).date).toBe(date);
  });

  it('learns secrets later, ignores empty ones, and is the identity when empty', () => {
    const mask = createSecretMask(['']);
    expect(mask.empty).toBe(true);
    const value = { a: 'token' };
    expect(mask.value(value)).toBe(value);
    mask.add('token');
    expect(mask.empty).toBe(false);
    expect(mask.value(value)).toEqual({ a: MASK });
  });

  it('copes with cycles', () => {
    const mask = createSecretMask(['k']);
    const cyclic: Record<string, unknown> = { v: 'k' };
    cyclic.self = cyclic;
    const masked = mask.value(cyclic) as Record<string, unknown>;
    expect(masked.v).toBe(MASK);
    expect(masked.self).toBe(masked);
  });
});
