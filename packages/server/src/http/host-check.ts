/**
 * The Host check of a server that runs without keys on loopback. A web page the user opens can
 * point a name it controls at 127.0.0.1 (DNS rebinding) and then call the API as its own origin;
 * its requests still name that page's host, so only loopback names and the `--public-url` host
 * are served: `localhost`, `127.x.x.x` and `[::1]`, with any port.
 */
export function loopbackHostCheck(publicUrl: string | null): (host: string) => boolean {
  const publicHost = publicUrl === null ? null : new URL(publicUrl).hostname;
  return (host) => {
    // Nothing but a name or address and a port: `user@` or a path would steer the parse below.
    if (!/^[^@/?#\\\s]+$/.test(host)) return false;
    let hostname: string;
    try {
      // URL also settles spellings a resolver would accept (`127.1`, upper case).
      hostname = new URL(`http://${host}/`).hostname;
    } catch {
      return false;
    }
    return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === publicHost;
  };
}
