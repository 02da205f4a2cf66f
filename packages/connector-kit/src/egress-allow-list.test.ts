import { describe, expect, it } from 'vitest';
import { compileEgressAllowList } from './egress-allow-list';
import { parseIp } from './ip-address';

function address(text: string) {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`test address ${text} did not parse`);
  return parsed;
}

describe('compileEgressAllowList', () => {
  it('allows hosts by exact name, ignoring case and a trailing dot', () => {
    const list = compileEgressAllowList(['Intranet.Example.']);
    expect(list.allowsHost('intranet.example')).toBe(true);
    expect(list.allowsHost('INTRANET.example.')).toBe(true);
    expect(list.allowsHost('api.intranet.example')).toBe(false);
    expect(list.allowsHost('intranet.example.com')).toBe(false);
  });

  it('allows addresses by CIDR block or single address, IPv4 and IPv6', () => {
    const list = compileEgressAllowList(['10.20.0.0/16', '127.0.0.1', 'fd00::/8']);
    expect(list.allowsAddress(address('10.20.3.4'))).toBe(true);
    expect(list.allowsAddress(address('10.21.3.4'))).toBe(false);
    expect(list.allowsAddress(address('127.0.0.1'))).toBe(true);
    expect(list.allowsAddress(address('127.0.0.2'))).toBe(false);
    expect(list.allowsAddress(address('fd12::1'))).toBe(true);
    expect(list.allowsAddress(address('::ffff:127.0.0.1'))).toBe(true);
  });

  it('treats an IP literal host as covered by a block', () => {
    const list = compileEgressAllowList(['127.0.0.0/8']);
    expect(list.allowsHost('127.0.0.5')).toBe(true);
    expect(list.allowsHost('[::1]')).toBe(false);
  });

  it('is empty by default and ignores blank entries', () => {
    const list = compileEgressAllowList(['', '  ']);
    expect(list.allowsHost('localhost')).toBe(false);
    expect(list.allowsAddress(address('127.0.0.1'))).toBe(false);
  });

  it('fails loudly on entries that are neither host, address nor block', () => {
    expect(() => compileEgressAllowList(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/);
    expect(() => compileEgressAllowList(['localhost:8080'])).toThrow(/localhost:8080/);
    expect(() => compileEgressAllowList(['http://x'])).toThrow(RangeError);
  });
});
