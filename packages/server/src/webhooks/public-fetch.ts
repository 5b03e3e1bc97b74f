import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Fetch } from './send-webhook.js';

/**
 * Addresses a webhook may not reach under `--webhook-targets public`: this host, private
 * networks, link-local (cloud metadata services), shared, benchmarking, multicast and reserved
 * ranges, in IPv4 and IPv6.
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** True for an IP address other machines on the internet would reach; false for names and the ranges above. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]!);
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A URL's host as an address is written: lower case, IPv6 without its brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** An address written out (not a name) that is not public. */
function isPrivateLiteral(host: string): boolean {
  return isIP(host) !== 0 && !isPublicAddress(host);
}

/**
 * The host a URL names when it is this machine or an address that is not public (`localhost`,
 * a private or link-local literal); null for public literals and for other names, which are
 * checked when a call connects.
 */
export function refusedHost(url: URL): string | null {
  const host = hostOf(url);
  return host === 'localhost' || host.endsWith('.localhost') || isPrivateLiteral(host) ? host : null;
}

function refusal(address: string): Error {
  return new Error(`${address} is not a public address; batchd sends webhooks to public addresses only (--webhook-targets public)`);
}

/** Resolves as `dns.lookup` does, and fails when any address found is not public. */
function publicLookup(hostname: string, options: LookupOptions, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused) return callback(refusal(refused.address), []);
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    return first ? callback(null, first.address, first.family) : callback(new Error(`${hostname} has no address`), []);
  });
}

/**
 * The `fetch` webhooks are sent with under `--webhook-targets public`: a URL naming an address
 * that is not public fails at once, and a name is checked when the connection is made, against
 * every address it resolves to, so a name cannot be pointed elsewhere between a check and the call.
 */
export function publicOnlyFetch(): Fetch {
  const agent = new Agent({ connect: { lookup: publicLookup } });
  return async (input, init) => {
    const host = hostOf(new URL(input));
    if (isPrivateLiteral(host)) throw refusal(host);
    return (await undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent })) as unknown as Response;
  };
}
