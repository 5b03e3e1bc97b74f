import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { MessageBatchIndividualResponse } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, TEST_API_KEY, type Api } from '../test-support/api/api.js';
import { createBatch, expectApiError, followResults, parseResults, pollUntil, retrieveBatch, resultsById, tally, userRequest, waitUntilEnded, type BatchRequest } from '../test-support/api/batches.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** `GET …/results?partial=true[&follow=true]` against a real batchd running the emulator. */

let server: ServerHandle;
let client: Api;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  client = api(server.url);
});

afterAll(async () => {
  await server.kill();
});

/** A request the emulator answers after `ms`. */
const after = (customId: string, ms: number): BatchRequest => userRequest(customId, 'Hi', { metadata: { user_id: `emulator:latency=${ms}` } });
const resultsPath = (id: string, query = '') => `/v1/messages/batches/${id}/results${query}`;

describe('results while a batch runs', () => {
  it('answers 400 naming a bad partial or follow, and 400 as before for an unfinished batch without partial', async () => {
    const batch = await createBatch(client, [after('slow', 3000)]);
    for (const query of ['?partial=yes', '?partial=1', '?partial=', '?partial=true&partial=true']) {
      expect(expectApiError(await client.get(resultsPath(batch.id, query)), 400, 'invalid_request_error').message, query).toMatch(/^partial: /);
    }
    expect(expectApiError(await client.get(resultsPath(batch.id, '?partial=true&follow=maybe')), 400, 'invalid_request_error').message).toMatch(/^follow: /);
    for (const query of ['?follow=true', '?partial=false&follow=true']) {
      expect(expectApiError(await client.get(resultsPath(batch.id, query)), 400, 'invalid_request_error').message, query).toMatch(/^follow: .*partial=true/);
    }
    for (const query of ['', '?partial=false']) {
      expect(expectApiError(await client.get(resultsPath(batch.id, query)), 400, 'invalid_request_error').message).toMatch(/still processing/);
    }
    expectApiError(await client.get(resultsPath('msgbatch_01missing', '?partial=true')), 404, 'not_found_error');
  });

  it('with partial, returns a subset of the results that grows, in the order they finished, then all of them', async () => {
    const requests = [...['f0', 'f1', 'f2'].map((id) => after(id, 0)), ...['m0', 'm1', 'm2'].map((id) => after(id, 1000)), after('s0', 3000)];
    const batch = await createBatch(client, requests);
    const read = async (least: number) => {
      await pollUntil(() => retrieveBatch(client, batch.id), (b) => b.request_counts.succeeded >= least, { what: `${least} results` });
      const response = await client.get(resultsPath(batch.id, '?partial=true'));
      return { text: response.text, lines: parseResults(response), batchAfter: await retrieveBatch(client, batch.id) };
    };
    const first = await read(3);
    expect(first.batchAfter.processing_status).toBe('in_progress');
    expect(first.lines.length).toBeGreaterThanOrEqual(3);
    expect(first.lines.length).toBeLessThan(requests.length);
    expect([...resultsById(first.lines).keys()].slice(0, 3).sort()).toEqual(['f0', 'f1', 'f2']);
    const second = await read(6);
    expect(second.lines.length).toBeGreaterThanOrEqual(6);
    expect(second.text.startsWith(first.text), 'later reads extend earlier ones').toBe(true);

    const ended = await waitUntilEnded(client, batch.id, requests.length);
    const whole = parseResults(await client.get(resultsPath(batch.id, '?partial=true')));
    resultsById(whole, requests.map((r) => r.custom_id));
    const official = new Anthropic({ baseURL: server.url, apiKey: TEST_API_KEY });
    const fromOfficial: MessageBatchIndividualResponse[] = [];
    for await (const line of await official.messages.batches.results(ended.id)) fromOfficial.push(line as MessageBatchIndividualResponse);
    expect(fromOfficial).toEqual(whole);
  });

  it('with follow, streams each result once as it finishes and ends when the batch ends', async () => {
    const requests = [after('a', 0), after('b', 400), userRequest('bad', 'Hi', { metadata: { user_id: 'emulator:error=not_found_error' } }), after('c', 800), after('d', 2000)];
    const batch = await createBatch(client, requests);
    let firstSeenWhile: string | undefined;
    const lines = await followResults(server.url, batch.id, async (_line, index) => {
      if (index === 0) firstSeenWhile = (await retrieveBatch(client, batch.id)).processing_status;
    });
    expect(firstSeenWhile, 'the first result arrives while the batch runs').toBe('in_progress');
    resultsById(lines, requests.map((r) => r.custom_id));
    const ended = await retrieveBatch(client, batch.id);
    expect(ended.processing_status).toBe('ended');
    expect(tally(lines)).toEqual({ succeeded: 4, errored: 1, canceled: 0, expired: 0 });
    expect(ended.request_counts).toEqual({ processing: 0, ...tally(lines) });
  });

  it('with follow, streams the canceled requests of a batch canceled on the way', async () => {
    const requests = [after('first', 0), ...Array.from({ length: 40 }, (_, i) => after(`later-${i}`, 500))];
    const batch = await createBatch(client, requests);
    const lines = await followResults(server.url, batch.id, async (_line, index) => {
      if (index === 0) expect((await client.post(`/v1/messages/batches/${batch.id}/cancel`)).status).toBe(200);
    });
    resultsById(lines, requests.map((r) => r.custom_id));
    const ended = await retrieveBatch(client, batch.id);
    expect(ended.processing_status).toBe('ended');
    const counts = tally(lines);
    expect(counts).toEqual({ succeeded: ended.request_counts.succeeded, errored: 0, canceled: ended.request_counts.canceled, expired: 0 });
    expect(counts.canceled).toBeGreaterThan(0);
  });

  it('follows an ended batch by streaming all its results at once', async () => {
    const requests = [after('x', 0), after('y', 0)];
    const batch = await createBatch(client, requests);
    await waitUntilEnded(client, batch.id, requests.length);
    const normal = parseResults(await client.get(resultsPath(batch.id)));
    expect(await followResults(server.url, batch.id)).toEqual(normal);
  });
});

describe('follow streams on shutdown', () => {
  it('cut open follow streams so the server exits at once on SIGTERM', async () => {
    // Without an engine the batch never ends: only the shutdown can end the stream.
    const idle = await startServer({ flags: { 'log-level': 'warn', 'no-engine': true } });
    const batch = await createBatch(api(idle.url), [after('never', 0)]);
    const response = await fetch(`${idle.url}${resultsPath(batch.id, '?partial=true&follow=true')}`, { headers: { 'x-api-key': TEST_API_KEY } });
    expect(response.status, 'headers arrive before any result').toBe(200);
    const body = response.text().then(
      () => 'ended as if complete',
      () => 'cut',
    );
    expect(await idle.stop()).toEqual({ code: 0, signal: null });
    expect(await body).toBe('cut');
  });
});

describe('results of batches from before completion order was kept', () => {
  it('are all returned with partial, for a running batch and for an ended one', async () => {
    const dbDir = await makeTempDir();
    const legacy = new Database(join(dbDir, 'batchd.sqlite'));
    legacy.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version < 3)) {
      legacy.exec(migration.sql);
      legacy.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
    }
    const now = Date.now();
    const insertBatch = legacy.prepare(`INSERT INTO batches (id, workspace_id, status, processing, errored, created_at, expires_at, archive_at, ended_at)
      VALUES (?, 'default', ?, ?, ?, ?, ?, ?, ?) RETURNING seq`);
    const insertRequest = legacy.prepare(`INSERT INTO requests (batch_seq, custom_id, params, state, result_type, result) VALUES (?, ?, ?, ?, ?, ?)`);
    const failed = (customId: string) => JSON.stringify({ type: 'errored', error: { type: 'error', error: { type: 'api_error', message: `old ${customId}` }, request_id: null } });
    const running = insertBatch.pluck().get('msgbatch_01LEGACYRUNNING', 'in_progress', 1, 2, now, now + 3_600_000, now + 7_200_000, null) as number;
    const ended = insertBatch.pluck().get('msgbatch_01LEGACYENDED', 'ended', 0, 1, now, now + 3_600_000, now + 7_200_000, now) as number;
    for (const id of ['old-a', 'old-b']) insertRequest.run(running, id, '{}', 'done', 'errored', failed(id));
    insertRequest.run(running, 'still-running', JSON.stringify(after('still-running', 60_000).params), 'queued', null, null);
    insertRequest.run(ended, 'done-before', '{}', 'done', 'errored', failed('done-before'));
    legacy.close();

    const upgraded = await startServer({ dbDir, flags: { 'log-level': 'warn' } });
    const upgradedClient = api(upgraded.url);
    const soFar = parseResults(await upgradedClient.get(resultsPath('msgbatch_01LEGACYRUNNING', '?partial=true')));
    expect(soFar.map((line) => line.custom_id)).toEqual(['old-a', 'old-b']);
    expect((await retrieveBatch(upgradedClient, 'msgbatch_01LEGACYRUNNING')).processing_status).toBe('in_progress');
    const all = parseResults(await upgradedClient.get(resultsPath('msgbatch_01LEGACYENDED', '?partial=true')));
    expect(all.map((line) => line.custom_id)).toEqual(['done-before']);
    await upgraded.kill();
  });
});
