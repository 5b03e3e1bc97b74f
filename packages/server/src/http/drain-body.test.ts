import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drainBody } from './drain-body.js';

describe('drainBody', () => {
  it('drains what is left of a body, and closes one that runs past the cap', async () => {
    const rest = Readable.from([Buffer.alloc(100), Buffer.alloc(100)]);
    await drainBody(rest, 1000, 5_000);
    expect(rest.readableEnded).toBe(true);
    const endless = new Readable({ read() { this.push(Buffer.alloc(1000)); } });
    await drainBody(endless, 5000, 5_000);
    expect(endless.destroyed).toBe(true);
    const silent = new Readable({ read() {} });
    await drainBody(silent, 5000, 20);
    expect(silent.destroyed).toBe(true);
  });
});
