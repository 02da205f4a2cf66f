import { type IpAddress, type IpRange, parseIp, parseIpRange, rangeContains } from './ip-address';

/**
 * The destinations a tenant may reach although they are private, loopback, link-local or
 * unspecified. Built from entries that are host names (matched exactly, case-insensitively, a
 * trailing dot ignored), IP addresses, or CIDR blocks (`10.0.0.0/8`, `fd00::/8`).
 */
export interface EgressAllowList {
  /** Whether the host name (or IP literal) itself is named by the list. */
  allowsHost(host: string): boolean;
  /** Whether the address lies in a listed address or block. */
  allowsAddress(address: IpAddress): boolean;
}

/** A host name as compared: lower-case, without brackets or a trailing dot. */
export function normaliseHost(host: string): string {
  let normal = host.trim().toLowerCase();
  if (normal.startsWith('[') && normal.endsWith(']')) normal = normal.slice(1, -1);
  if (normal.endsWith('.')) normal = normal.slice(0, -1);
  return normal;
}

const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * Compiles allow-list entries. Throws a `RangeError` naming the first entry that is neither a host
 * name, an IP address nor a CIDR block, so that a bad configuration fails at start.
 */
export function compileEgressAllowList(entries: readonly string[]): EgressAllowList {
  const hosts = new Set<string>();
  const ranges: IpRange[] = [];
  for (const entry of entries) {
    const text = entry.trim();
    if (text === '') continue;
    if (/^[\d.]+\/|:/.test(text) || parseIp(text)) {
      const parsed = parseIpRange(text);
      if (!parsed)
        throw new RangeError(`egress allow-list entry "${entry}" is not a valid IP address or CIDR block`);
      ranges.push(parsed);
      continue;
    }
    const host = normaliseHost(text);
    if (!HOST_NAME.test(host)) {
      throw new RangeError(`egress allow-list entry "${entry}" is not a host name, IP address or CIDR block`);
    }
    hosts.add(host);
  }
  return {
    allowsHost: (host) => {
      const normal = normaliseHost(host);
      if (hosts.has(normal)) return true;
      const literal = parseIp(normal);
      return literal !== undefined && ranges.some((range) => rangeContains(range, literal));
    },
    allowsAddress: (address) => ranges.some((range) => rangeContains(range, address)),
  };
}
