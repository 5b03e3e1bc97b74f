import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Pool, type Dispatcher } from 'undici';
import { HttpEndpoint } from '../../packages/server/src/backends/http-endpoint.js';
import { anthropicMessage } from '../../packages/server/test-support/fakes/fake-answers.js';
import { messageParams } from '../support/request-bodies.js';

/**
 * What batchd's whole-answer call (`HttpEndpoint.post`: a shared deadline, the answer read and
 * decoded, its rate-limit headers read) costs in CPU against a bare undici `dispatch` that only
 * gathers the bytes (the attainable limit) and a bare `request` read with `text()`. All three run
 * in this one process, in turn, `ROUNDS` rounds of `CALLS` calls at concurrency 64, against a
 * provider in a process of its own that answers at once: a neighbour's burst or the process's
 * own luck then falls on all three alike, which runs in separate processes do not give (finding 28).
 * Medians of the rounds after two warming ones, in µs of CPU a call.
 *
 *   node bench/dist/bench/probes/endpoint-calls.js
 */

const CALLS = 5_000;
const ROUNDS = 24;
const CONCURRENCY = 64;
const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'probe-key', 'anthropic-version': '2023-06-01' };

const body = JSON.stringify(messageParams(1, 20, 64));
// The fake provider's own answer to these params, as `million` and `overhead` read it.
const answer = JSON.stringify(anthropicMessage(JSON.parse(body)));
const provider = spawn(process.execPath, ['-e', `
  const answer = ${JSON.stringify(answer)};
  require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'anthropic-ratelimit-requests-remaining': '1000' });
    res.end(answer);
  }); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`], { stdio: ['ignore', 'pipe', 'inherit'] });
const [portLine] = (await once(provider.stdout!, 'data')) as [Buffer];
const url = `http://127.0.0.1:${portLine.toString().trim()}`;

function bareDispatch(pool: Pool): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // undici takes a handler as one of this API's by its `onRequestStart`.
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => undefined,
      onResponseData: (_controller, chunk) => void chunks.push(chunk),
      onResponseEnd: () => resolve(Buffer.concat(chunks).toString('utf8')),
      onResponseError: (_controller, error) => reject(error),
    };
    pool.dispatch({ path: '/v1/messages', method: 'POST', headers: HEADERS, body }, handler);
  });
}

const endpoint = new HttpEndpoint({ url, path: '/v1/messages', headers: HEADERS, now: Date.now });
const dispatchPool = new Pool(url, { connections: null });
const requestPool = new Pool(url, { connections: null });
const stop = new AbortController().signal;
const ways: Record<string, () => Promise<string>> = {
  'HttpEndpoint.post': async () => {
    const exchange = await endpoint.post(body, stop);
    if (exchange.kind !== 'response') throw new Error(exchange.message);
    return exchange.text;
  },
  'bare dispatch': () => bareDispatch(dispatchPool),
  'bare request + text()': async () => (await requestPool.request({ path: '/v1/messages', method: 'POST', headers: HEADERS, body })).body.text(),
};

const cpu = new Map<string, number[]>(Object.keys(ways).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, call] of Object.entries(ways)) {
    let started = 0;
    const before = process.cpuUsage();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (started < CALLS) {
        started++;
        JSON.parse(await call());
      }
    }));
    const used = process.cpuUsage(before);
    if (round >= 2) cpu.get(name)!.push((used.user + used.system) / CALLS);
  }
}
for (const [name, values] of cpu) {
  values.sort((a, b) => a - b);
  console.log(`${name.padEnd(22)} median ${values[values.length >> 1]!.toFixed(1)} µs, least ${values[0]!.toFixed(1)} µs of CPU a call`);
}
await Promise.all([endpoint.close(), dispatchPool.close(), requestPool.close()]);
provider.kill();
