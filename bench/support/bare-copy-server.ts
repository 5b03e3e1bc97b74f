import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * The attainable limit of a results stream from PostgreSQL over HTTP on loopback: a bare Node
 * HTTP server that answers every GET with one batch's result lines, framed in SQL and sent by one
 * binary `COPY` in key order, each line's bytes copied out of the COPY's chunks into a 1 MiB
 * buffer written whole to the socket, waiting only while the socket's buffer is full. No
 * framework, no auth, no pages, no bound on what a slow reader holds: what it spends beyond a
 * file server is PostgreSQL's send and the tuple framing, which any server of these rows pays.
 *
 * Run as its own process: `node bare-copy-server.js POSTGRES_URL BATCH_ID`; prints its URL on
 * stdout once it listens, and stops on SIGTERM.
 */

const BUFFER_BYTES = 1024 * 1024;
const [url, batchId] = process.argv.slice(2);
if (!url || !batchId) throw new Error('usage: bare-copy-server POSTGRES_URL BATCH_ID');

/** The batch's lines in key order, walking the requests' index as batchd does (a plan from fresh statistics may sort instead). */
const copyQuery = (seq: number) => `COPY (SELECT '{"custom_id":"' || custom_id || '","result":' || COALESCE(result, '{"type":"' || result_type || '"}') || E'}\\n'
  FROM batchd.requests WHERE batch_seq = ${seq} ORDER BY key) TO STDOUT (FORMAT binary)`;
/** The binary format's signature, flags and header extension length, before the first tuple. */
const HEADER_BYTES = 19;

/** Writes `chunk`, waiting only when the socket's buffer is full. */
const written = async (response: ServerResponse, chunk: Buffer) => {
  if (!response.write(chunk)) await once(response, 'drain');
};

/** Copies each tuple's one field out of the COPY's chunks into `out`, writing `out` whenever it fills. */
async function send(client: pg.PoolClient, seq: number, response: ServerResponse): Promise<void> {
  let out = Buffer.allocUnsafe(BUFFER_BYTES);
  let used = 0;
  // Each tuple starts with its field count (2 bytes, -1 for the trailer) and its field's length (4 bytes).
  const head = Buffer.alloc(6);
  let headUsed = 0;
  let fieldLeft = 0;
  let skip = HEADER_BYTES;
  for await (const chunk of client.query(copyTo(copyQuery(seq))) as AsyncIterable<Buffer>) {
    let at = Math.min(skip, chunk.length);
    skip -= at;
    while (at < chunk.length) {
      if (fieldLeft > 0) {
        const take = Math.min(fieldLeft, chunk.length - at, BUFFER_BYTES - used);
        chunk.copy(out, used, at, at + take);
        used += take;
        at += take;
        fieldLeft -= take;
        if (used === BUFFER_BYTES) {
          await written(response, out);
          out = Buffer.allocUnsafe(BUFFER_BYTES);
          used = 0;
        }
        continue;
      }
      const take = Math.min(6 - headUsed, chunk.length - at);
      head.set(chunk.subarray(at, at + take), headUsed);
      headUsed += take;
      at += take;
      if (headUsed >= 2 && head.readInt16BE(0) === -1) break;
      if (headUsed < 6) continue;
      fieldLeft = head.readInt32BE(2);
      headUsed = 0;
    }
  }
  if (used > 0) await written(response, out.subarray(0, used));
}

const pool = new pg.Pool({ connectionString: url, max: 2 });
const server = createServer((request, response) => {
  request.resume();
  void pool.connect().then(async (client) => {
    try {
      const { rows } = await client.query<{ seq: string }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
      await client.query('BEGIN; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off');
      response.writeHead(200, { 'content-type': 'application/x-jsonl' });
      await send(client, Number(rows[0]!.seq), response);
      await client.query('COMMIT');
      response.end();
    } catch (error) {
      response.destroy(error as Error);
    } finally {
      client.release();
    }
  });
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.once('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
