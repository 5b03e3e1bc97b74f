import { describe, expect, it } from 'vitest';
import { loopbackHostCheck } from './host-check.js';

describe('loopbackHostCheck', () => {
  const allowed = loopbackHostCheck('https://batches.example.com/base');

  it('accepts loopback names and the public URL host, with any port', () => {
    for (const host of ['localhost', 'localhost:8787', 'LOCALHOST:1', '127.0.0.1', '127.0.0.1:8787', '127.9.8.7:1', '[::1]', '[::1]:8787', 'batches.example.com', 'batches.example.com:443']) {
      expect(allowed(host), host).toBe(true);
    }
  });

  it('refuses every other name, and Host values that are more than a name and a port', () => {
    for (const host of ['', 'evil.example', 'evil.example:8787', 'localhost.evil.example', '127.0.0.1.evil.example', '10.0.0.1', '[::2]', 'evil@127.0.0.1', 'evil.example/127.0.0.1', 'localhost:port', 'example.com']) {
      expect(allowed(host), host).toBe(false);
    }
    expect(loopbackHostCheck(null)('batches.example.com')).toBe(false);
  });
});
