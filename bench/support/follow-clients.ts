import { BatchdClient } from './batchd-client.js';

/**
 * Followers of one running batch: `clients` connections, each reading
 * `GET /v1/messages/batches/:id/results?partial=true&follow=true` to its end and counting the
 * result lines it received. Every client must see every line exactly once, so each counts lines.
 *
 * Run as its own process: `node follow-clients.js '<json FollowClientsOptions>'`; prints one JSON
 * line (FollowClientsReport) on stdout.
 */

export interface FollowClientsOptions {
  url: string;
  batchId: string;
  clients: number;
}

export interface FollowClientsReport {
  /** Lines each client read, fewest and most. */
  minLines: number;
  maxLines: number;
  /** Bytes all clients read together. */
  bytes: number;
  /** Chunks all clients read together: how often the server wrote to each. */
  chunks: number;
  /** The first few failures; the run counts only when this is empty. */
  errors: string[];
}

async function follow(client: BatchdClient, batchId: string, report: FollowClientsReport): Promise<number> {
  const response = await client.send('GET', `/v1/messages/batches/${batchId}/results?partial=true&follow=true`);
  if (response.statusCode !== 200) throw new Error(`follow answered ${response.statusCode}`);
  let lines = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    report.bytes += chunk.length;
    report.chunks += 1;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
  }
  return lines;
}

async function main(options: FollowClientsOptions): Promise<FollowClientsReport> {
  const client = new BatchdClient(options.url, 'bench-key', options.clients);
  const report: FollowClientsReport = { minLines: Number.POSITIVE_INFINITY, maxLines: 0, bytes: 0, chunks: 0, errors: [] };
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      try {
        const lines = await follow(client, options.batchId, report);
        report.minLines = Math.min(report.minLines, lines);
        report.maxLines = Math.max(report.maxLines, lines);
      } catch (error) {
        if (report.errors.length < 10) report.errors.push((error as Error).message);
      }
    }),
  );
  client.close();
  return report;
}

const report = await main(JSON.parse(process.argv[2] ?? '{}') as FollowClientsOptions);
process.stdout.write(`${JSON.stringify(report)}\n`);
