import { describe, expect, it } from 'vitest';
import { checkCredentialData } from './credential-data';

describe('checkCredentialData', () => {
  it('splits non-secret fields from secret ones', () => {
    expect(checkCredentialData({ type: 'basic', data: { username: 'ann', password: 'pw' } })).toEqual({
      ok: true,
      value: { publicData: { username: 'ann' }, secrets: { password: 'pw' } },
    });
  });

  it('names each field at fault under body.data, never repeating a value', () => {
    const result = checkCredentialData({
      type: 'oauth2ClientCredentials',
      data: { tokenUrl: 'ftp://auth.example.com/token', clientSecret: 42, extra: 'secret-ish', clientAuth: 'header' },
    });
    expect(result).toEqual({
      ok: false,
      errors: [
        { path: 'body.data.extra', message: expect.stringContaining('is not a field of a oauth2ClientCredentials credential') },
        { path: 'body.data.clientId', message: 'is required' },
        { path: 'body.data.clientSecret', message: 'must be a non-empty string of at most 16384 characters' },
        { path: 'body.data.clientAuth', message: 'must be one of basic, body' },
        { path: 'body.data.tokenUrl', message: 'must be an http or https URL' },
      ],
    });
    expect(JSON.stringify(result)).not.toContain('secret-ish');
  });

  it('keeps stored secrets a PUT leaves out; null clears an optional field and misses a required one', () => {
    const stored = { password: 'old', token: 'old-token' };
    expect(checkCredentialData({ type: 'nats', data: { servers: ['nats://a:4222'], username: 'u' }, stored })).toEqual({
      ok: true,
      value: { publicData: { servers: ['nats://a:4222'], username: 'u' }, secrets: { password: 'old', token: 'old-token' } },
    });
    expect(checkCredentialData({ type: 'nats', data: { servers: 'nats://a', password: null }, stored })).toMatchObject({
      ok: true,
      value: { secrets: { token: 'old-token' } },
    });
    expect(checkCredentialData({ type: 'secret', data: { value: null }, stored: { value: 'v' } })).toEqual({
      ok: false,
      errors: [{ path: 'body.data.value', message: 'is required' }],
    });
  });

  it('checks ports, booleans, lists and header names', () => {
    const bad = checkCredentialData({ type: 'smtp', data: { host: 'h', port: 70_000, secure: 'yes' } });
    expect(bad).toMatchObject({ ok: false, errors: [{ path: 'body.data.port' }, { path: 'body.data.secure' }] });
    expect(checkCredentialData({ type: 'nats', data: { servers: [] } })).toMatchObject({ errors: [{ path: 'body.data.servers' }] });
    expect(checkCredentialData({ type: 'apiKey', data: { key: 'k', header: 'Bad Header' } })).toEqual({
      ok: false,
      errors: [{ path: 'body.data.header', message: 'is not a valid HTTP header name' }],
    });
  });
});
