import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { acceptEmptyBodies } from './empty-body.js';

/** The app's body parsing on its own: what a route receives for each kind of body. */
async function echoApp() {
  const app = Fastify();
  acceptEmptyBodies(app);
  const echo = async (request: { body: unknown }) => ({ body: request.body === undefined ? 'none' : request.body });
  app.post('/echo', echo);
  app.delete('/echo', echo);
  await app.ready();
  return app;
}

describe('acceptEmptyBodies', () => {
  it.each([
    ['POST', 'application/json'],
    ['POST', 'text/plain'],
    ['POST', 'application/x-unknown'],
    ['DELETE', 'application/json'],
    ['DELETE', 'application/octet-stream'],
  ])('gives a route no body for an empty %s body declared %s', async (method, contentType) => {
    const app = await echoApp();
    const response = await app.inject({ method: method as 'POST', url: '/echo', headers: { 'content-type': contentType, 'content-length': '0' } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ body: 'none' });
  });

  it('gives a route no body for a JSON body sent without a length that turns out empty', async () => {
    const app = await echoApp();
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: Readable.from([]) });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ body: 'none' });
  });

  it('still parses JSON bodies, and still refuses bad and poisoned ones', async () => {
    const app = await echoApp();
    const post = (payload: string) => app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    expect((await post('{"a":1}')).json()).toEqual({ body: { a: 1 } });
    expect((await post('{"a":')).statusCode).toBe(400);
    expect((await post('{"__proto__":{"x":1}}')).statusCode).toBe(400);
    const unknownType = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-unknown' }, payload: 'x' });
    expect(unknownType.statusCode).toBe(415);
  });

  it('refuses a JSON body nested too deep or holding too many values before parsing it', async () => {
    const app = await echoApp();
    const post = (payload: string) => app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    const deep = await post(`${'['.repeat(512 * 1024)}${']'.repeat(512 * 1024)}`);
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toMatchObject({ message: 'The request body is nested deeper than the maximum of 64 levels' });
    const wide = await post(`[${'[],'.repeat(300_000)}[]]`);
    expect(wide.statusCode).toBe(400);
    expect(wide.json()).toMatchObject({ message: 'The request body has more than the maximum of 100000 JSON values and keys' });
    expect((await post(`{"a":${'['.repeat(63)}${']'.repeat(63)}}`)).statusCode).toBe(200);
  });

  it('refuses a JSON body that is not UTF-8 rather than reading U+FFFD in its place', async () => {
    const app = await echoApp();
    const post = (payload: Buffer) => app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    for (const bad of [Buffer.from('{"a":"\xff"}', 'latin1'), Buffer.from('{"a":"\xe9t\xe9"}', 'latin1'), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])]) {
      const response = await post(bad);
      expect(response.statusCode, bad.toString('hex')).toBe(400);
      expect(response.body).toMatch(/not UTF-8/);
    }
    expect((await post(Buffer.from('{"a":"é🌍"}'))).json()).toEqual({ body: { a: 'é🌍' } });
  });
});
