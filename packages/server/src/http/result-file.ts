import type { FileStore, ResultRow } from '../store/file-store.js';
import { QUARANTINE_MESSAGE } from '../store/quarantine.js';
import type { ResultFilePart } from './openai-wire.js';

const PAGE_ROWS = 1000;

/** Why a request has no response, as OpenAI's error file says it: it never ran, or was quarantined. */
const NO_RESPONSE: Readonly<Record<string, string>> = {
  expired: '{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}',
  canceled: '{"code":"batch_cancelled","message":"This request was not executed because the batch was cancelled."}',
  errored: JSON.stringify({ code: 'server_error', message: QUARANTINE_MESSAGE }),
};

/**
 * One line of an output or error file: `{"id","custom_id","response","error"}`. A request that ran
 * has its stored response (`{"status_code","request_id","body"}`) and a null error; one that never
 * ran, or never finished (quarantined), has a null response and the error saying why.
 */
export function resultFileLine(row: ResultRow): string {
  const head = `{"id":"batch_req_${row.key}","custom_id":${JSON.stringify(row.customId)}`;
  if (row.result !== null) return `${head},"response":${row.result},"error":null}\n`;
  return `${head},"response":null,"error":${NO_RESPONSE[row.type] ?? NO_RESPONSE.expired}}\n`;
}

/** The content of a batch's output or error file, page by page, each line ending in `\n`. */
export async function* resultFileContent(files: FileStore, batchId: string, part: ResultFilePart): AsyncGenerator<Buffer> {
  for await (const rows of files.readResultRows(batchId, part === 'output', PAGE_ROWS)) {
    let text = '';
    for (const row of rows) text += resultFileLine(row);
    yield Buffer.from(text);
  }
}

/** The size in bytes of a batch's output or error file, counted by reading it. */
export async function resultFileBytes(files: FileStore, batchId: string, part: ResultFilePart): Promise<number> {
  let bytes = 0;
  for await (const page of resultFileContent(files, batchId, part)) bytes += page.length;
  return bytes;
}
