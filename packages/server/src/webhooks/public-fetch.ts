import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { isPublicAddress } from './public-address.js';
import type { Fetch } from './send-webhook.js';

/** A URL's host as an address is written: lower case, IPv6 without its brackets, a name without its trailing dot. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
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

const POLICY = 'batchd sends webhooks to public addresses only (--webhook-targets public)';

/** A URL naming an address that is not public: the address is the URL's own, so the message may show it. */
function refusal(address: string): Error {
  return new Error(`${address} is not a public address; ${POLICY}`);
}

/**
 * Resolves as `dns.lookup` does, and fails when any address found is not public. The error names
 * the host, never the address it resolved to: delivery logs must not map the internal network.
 */
function publicLookup(hostname: string, options: LookupOptions, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused) return callback(new Error(`host ${hostname} resolves to an address that is not public; ${POLICY}`), []);
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
