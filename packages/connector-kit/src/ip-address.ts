import { isIP } from 'node:net';

/**
 * Where an IP address leads, for the egress policy. Everything but `public` is refused unless the
 * allow-list names it.
 *
 * - `unspecified` 0.0.0.0/8, ::            (the kernel routes 0.0.0.0 to this machine)
 * - `loopback`    127.0.0.0/8, ::1
 * - `private`     10/8, 172.16/12, 192.168/16, fc00::/7 (unique local), fec0::/10 (old site-local)
 * - `shared`      100.64.0.0/10 (carrier-grade NAT; some clouds put metadata services there)
 * - `link-local`  169.254/16 (cloud metadata at 169.254.169.254), fe80::/10
 * IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are classified as the IPv4 address they carry.
 */
export const AddressClass = {
  public: 'public',
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  shared: 'shared',
  linkLocal: 'link-local',
} as const;
export type AddressClass = (typeof AddressClass)[keyof typeof AddressClass];

/** A parsed address: 4 bytes for IPv4, 16 for IPv6. IPv4-mapped IPv6 is normalised to IPv4. */
export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

/** An address block: the first `prefix` bits of `base`. */
export interface IpRange {
  base: IpAddress;
  prefix: number;
}

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function parseIpv6(text: string): Uint8Array {
  const bytes = new Uint8Array(16);
  const [head = '', tail] = text.split('::');
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = parseIpv4(piece);
        groups.push((a << 8) | b, (c << 8) | d);
      } else {
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  const groups = [
    ...headGroups,
    ...new Array<number>(8 - headGroups.length - tailGroups.length).fill(0),
    ...tailGroups,
  ];
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

const MAPPED_PREFIX = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

function isMapped(bytes: Uint8Array): boolean {
  return MAPPED_PREFIX.every((byte, i) => bytes[i] === byte);
}

/**
 * Parses an IPv4 or IPv6 address (brackets and an IPv6 zone such as `%eth0` are ignored), or returns
 * `undefined` when `text` is not one.
 */
export function parseIp(text: string): IpAddress | undefined {
  let address = text.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  const version = isIP(address);
  if (version === 4) return { version: 4, bytes: parseIpv4(address) };
  if (version !== 6) return undefined;
  const bytes = parseIpv6(address);
  if (isMapped(bytes)) return { version: 4, bytes: bytes.slice(12) };
  return { version: 6, bytes };
}

/** Parses `10.0.0.0/8`, `fc00::/7` or a single address (a /32 or /128); `undefined` when invalid. */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const base = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!base) return undefined;
  const bits = base.bytes.length * 8;
  if (slash < 0) return { base, prefix: bits };
  const prefixText = text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = Number(prefixText);
  // An IPv4-mapped block such as ::ffff:10.0.0.0/104 was normalised to IPv4: drop the 96 mapped bits.
  const wasMapped = base.version === 4 && isIP(text.slice(0, slash).replace(/^\[|\]$/g, '')) === 6;
  if (wasMapped) prefix -= 96;
  if (prefix < 0 || prefix > bits) return undefined;
  return { base, prefix };
}

/** Whether `address` lies in `range` (never across IP versions). */
export function rangeContains(range: IpRange, address: IpAddress): boolean {
  if (range.base.version !== address.version) return false;
  const full = Math.floor(range.prefix / 8);
  for (let i = 0; i < full; i++) {
    if (range.base.bytes[i] !== address.bytes[i]) return false;
  }
  const rest = range.prefix % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((range.base.bytes[full] ?? 0) & mask) === ((address.bytes[full] ?? 0) & mask);
}

function range(text: string): IpRange {
  const parsed = parseIpRange(text);
  if (!parsed) throw new Error(`invalid built-in range ${text}`);
  return parsed;
}

/** Non-public blocks, most specific first. */
const CLASSIFIED_RANGES: readonly { range: IpRange; addressClass: AddressClass }[] = [
  { range: range('0.0.0.0/8'), addressClass: AddressClass.unspecified },
  { range: range('127.0.0.0/8'), addressClass: AddressClass.loopback },
  { range: range('10.0.0.0/8'), addressClass: AddressClass.private },
  { range: range('172.16.0.0/12'), addressClass: AddressClass.private },
  { range: range('192.168.0.0/16'), addressClass: AddressClass.private },
  { range: range('100.64.0.0/10'), addressClass: AddressClass.shared },
  { range: range('169.254.0.0/16'), addressClass: AddressClass.linkLocal },
  { range: range('::/128'), addressClass: AddressClass.unspecified },
  { range: range('::1/128'), addressClass: AddressClass.loopback },
  { range: range('fc00::/7'), addressClass: AddressClass.private },
  { range: range('fec0::/10'), addressClass: AddressClass.private },
  { range: range('fe80::/10'), addressClass: AddressClass.linkLocal },
];

/** The class of a parsed address; see `AddressClass`. */
export function classifyAddress(address: IpAddress): AddressClass {
  for (const entry of CLASSIFIED_RANGES) {
    if (rangeContains(entry.range, address)) return entry.addressClass;
  }
  return AddressClass.public;
}
