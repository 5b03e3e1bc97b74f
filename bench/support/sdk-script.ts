import Anthropic from '@anthropic-ai/sdk';
import { messageParams } from './request-bodies.js';

/**
 * The baseline a user writes instead of a batch service: the official SDK calling the provider
 * directly, `concurrency` calls at a time, until `requests` are done. Like such a script, it dies
 * at the first error the SDK gives up on (after its own retries).
 *
 * Run as its own process: `node sdk-script.js '<json SdkScriptOptions>'`; prints one JSON line
 * (SdkScriptReport) on stdout.
 */

export interface SdkScriptOptions {
  url: string;
  requests: number;
  concurrency: number;
  /** Length of each request's user text, as in `messageParams`. */
  textLength: number;
  maxTokens: number;
}

export interface SdkScriptReport {
  completed: number;
  seconds: number;
  /** CPU seconds (user + system) the script used from its first call on. */
  cpuSeconds: number;
  /** The error that ended the script, or null when every request completed. */
  error: { name: string; status: number | null; message: string } | null;
}

/** CPU seconds since `since`, a `process.cpuUsage()` reading. */
function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
}

function main(options: SdkScriptOptions): Promise<SdkScriptReport> {
  const client = new Anthropic({ baseURL: options.url, apiKey: 'bench-key' });
  let next = 0;
  let completed = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const cpuSeconds = () => cpuSecondsSince(cpuStart);
  return new Promise((resolve) => {
    const worker = async () => {
      while (next < options.requests) {
        const params = messageParams(next++, options.textLength, options.maxTokens);
        await client.messages.create(params);
        completed += 1;
      }
    };
    const workers = Array.from({ length: Math.min(options.concurrency, options.requests) }, worker);
    Promise.all(workers).then(
      () => resolve({ completed, seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds(), error: null }),
      (error: unknown) => {
        const status = error instanceof Anthropic.APIError ? (error.status ?? null) : null;
        const { name, message } = error instanceof Error ? error : new Error(String(error));
        const report = { completed, seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds() };
        resolve({ ...report, error: { name, status, message: message.slice(0, 300) } });
      },
    );
  });
}

const options = JSON.parse(process.argv[2] ?? '{}') as SdkScriptOptions;
const report = await main(options);
process.stdout.write(`${JSON.stringify(report)}\n`);
// A real script dies on its first unhandled error without waiting for the calls still out.
process.exit(report.error === null ? 0 : 1);
