import { Pool } from 'undici';
import { messageParams } from './request-bodies.js';

/**
 * The ceiling a client can reach against a provider whose capacity it is told: a keep-alive
 * undici pool sending exactly `concurrency` calls at a time, with no SDK, no database and no
 * retries. What it loses against capacity / latency is the loopback and the provider's own event
 * loop, which every client pays.
 *
 * Run as its own process: `node bare-loop.js '<json BareLoopOptions>'`; prints one JSON line
 * (BareLoopReport) on stdout.
 */

export interface BareLoopOptions {
  /** The provider's Messages endpoint origin. */
  url: string;
  requests: number;
  concurrency: number;
  textLength: number;
  maxTokens: number;
}

export interface BareLoopReport {
  completed: number;
  /** Answers other than 200 (none when `concurrency` is at most the capacity). */
  refused: number;
  seconds: number;
  /** CPU seconds (user + system) the loop's process used while sending. */
  cpuSeconds: number;
}

async function main(options: BareLoopOptions): Promise<BareLoopReport> {
  const pool = new Pool(options.url, { connections: null });
  const headers = { 'content-type': 'application/json', 'x-api-key': 'bench-key', 'anthropic-version': '2023-06-01' };
  let next = 0;
  let completed = 0;
  let refused = 0;
  const start = performance.now();
  const cpuAtStart = process.cpuUsage();
  const worker = async () => {
    while (next < options.requests) {
      const body = JSON.stringify(messageParams(next++, options.textLength, options.maxTokens));
      const response = await pool.request({ path: '/v1/messages', method: 'POST', headers, body });
      JSON.parse(await response.body.text());
      if (response.statusCode === 200) completed += 1;
      else refused += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, worker));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  await pool.close();
  return { completed, refused, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const report = await main(JSON.parse(process.argv[2] ?? '{}') as BareLoopOptions);
process.stdout.write(`${JSON.stringify(report)}\n`);
