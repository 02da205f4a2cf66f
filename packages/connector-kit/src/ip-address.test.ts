import { describe, expect, it } from 'vitest';
import { type AddressClass, classifyAddress, parseIp, parseIpRange, rangeContains } from './ip-address';

function classOf(text: string): AddressClass {
  const address = parseIp(text);
  if (!address) throw new Error(`test address ${text} did not parse`);
  return classifyAddress(address);
}

describe('classifyAddress', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['100.100.100.200', 'shared'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'private'],
    ['fd12:3456:789a::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'private'],
  ] as const)('%s is %s', (text, expected) => {
    expect(classOf(text)).toBe(expected);
  });

  it.each([
    '8.8.8.8',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '169.255.0.1',
    '100.63.255.255',
    '100.128.0.0',
    '11.0.0.1',
    '2001:4860:4860::8888',
    'fec0::1'.replace('fec0', '2606'),
    '::ffff:8.8.8.8',
    '::2',
    'fe7f::1',
  ])('%s is public', (text) => {
    expect(classOf(text)).toBe('public');
  });

  it('refuses what is not an address', () => {
    for (const text of ['localhost', '1.2.3', '256.1.1.1', '::g', '', 'example.com']) {
      expect(parseIp(text)).toBeUndefined();
    }
  });
});

describe('parseIpRange', () => {
  it('matches addresses inside a block and not outside', () => {
    const range = parseIpRange('10.1.0.0/16');
    const inside = parseIp('10.1.200.3');
    const outside = parseIp('10.2.0.1');
    if (!range || !inside || !outside) throw new Error('did not parse');
    expect(rangeContains(range, inside)).toBe(true);
    expect(rangeContains(range, outside)).toBe(false);
  });

  it('handles prefixes that are not byte aligned and IPv6', () => {
    const v4 = parseIpRange('172.16.0.0/12');
    const v6 = parseIpRange('fd00::/8');
    const a = parseIp('172.31.1.1');
    const b = parseIp('172.32.1.1');
    const c = parseIp('fdff::1');
    const d = parseIp('fc00::1');
    if (!v4 || !v6 || !a || !b || !c || !d) throw new Error('did not parse');
    expect([rangeContains(v4, a), rangeContains(v4, b), rangeContains(v6, c), rangeContains(v6, d)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  it('treats a single address as a /32 or /128 and never matches across versions', () => {
    expect(parseIpRange('127.0.0.1')).toMatchObject({ prefix: 32 });
    expect(parseIpRange('::1')).toMatchObject({ prefix: 128 });
    const v6 = parseIpRange('::/0');
    const v4 = parseIp('1.2.3.4');
    if (!v6 || !v4) throw new Error('did not parse');
    expect(rangeContains(v6, v4)).toBe(false);
  });

  it('normalises an IPv4-mapped block to IPv4', () => {
    expect(parseIpRange('::ffff:10.0.0.0/104')).toMatchObject({ base: { version: 4 }, prefix: 8 });
  });

  it('refuses bad prefixes', () => {
    for (const text of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'host/8']) {
      expect(parseIpRange(text)).toBeUndefined();
    }
  });
});
