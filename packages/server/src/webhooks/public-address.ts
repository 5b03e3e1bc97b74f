import { BlockList, isIP } from 'node:net';

/**
 * The IANA IPv4 and IPv6 special-purpose address registries (and multicast): no range listed
 * here is an address a webhook may reach under `--webhook-targets public`. Ranges the registries
 * mark globally reachable inside a refused block (192.0.0.9, parts of 2001::/23) are refused too.
 */
const IPV4_SPECIAL: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 (limited broadcast)
];

const IPV6_SPECIAL: ReadonlyArray<readonly [string, number]> = [
  ['::', 96], // unspecified (::/128), loopback (::1/128) and IPv4-compatible (deprecated)
  ['::ffff:0:0', 96], // IPv4-mapped
  ['::ffff:0:0:0', 96], // IPv4-translated
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation
  ['100::', 64], // discard-only
  ['100:0:0:1::', 64], // dummy prefix
  ['2001::', 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID…)
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // segment routing (SRv6) SIDs
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

function blockList(ranges: ReadonlyArray<readonly [string, number]>, type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, type);
  return list;
}

const NOT_PUBLIC_V4 = blockList(IPV4_SPECIAL, 'ipv4');
const NOT_PUBLIC_V6 = blockList(IPV6_SPECIAL, 'ipv6');
/** Where public unicast IPv6 lives (2000::/3); everything outside it is refused but NAT64. */
const GLOBAL_UNICAST = blockList([['2000::', 3]], 'ipv6');
/** NAT64 (well-known prefix) and 6to4 carry an IPv4 address: public only when that one is. */
const NAT64 = blockList([['64:ff9b::', 96]], 'ipv6');
const SIX_TO_FOUR = blockList([['2002::', 16]], 'ipv6');

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted quad converted). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const [head = '', tail] = text.split('::');
  if (tail === undefined) return parse(head);
  const [before, after] = [parse(head), parse(tail)];
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/** The IPv4 address held in two 16-bit groups. */
const ipv4Of = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

function isPublicIPv6(address: string): boolean {
  const groups = ipv6Groups(address);
  if (NAT64.check(address, 'ipv6')) return isPublicAddress(ipv4Of(groups[6]!, groups[7]!));
  if (SIX_TO_FOUR.check(address, 'ipv6')) return isPublicAddress(ipv4Of(groups[1]!, groups[2]!));
  return GLOBAL_UNICAST.check(address, 'ipv6') && !NOT_PUBLIC_V6.check(address, 'ipv6');
}

/** True for an IP address other machines on the internet would reach; false for names and special-purpose ranges. */
export function isPublicAddress(address: string): boolean {
  const bare = address.split('%')[0]!; // an IPv6 zone id (fe80::1%eth0)
  const family = isIP(bare);
  if (family === 4) return !NOT_PUBLIC_V4.check(bare, 'ipv4');
  return family === 6 && isPublicIPv6(bare);
}
