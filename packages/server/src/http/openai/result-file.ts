import type { FileStore, ResultRow } from '../../store/file-store.js';
import { QUARANTINE_MESSAGE } from '../../store/quarantine.js';
import type { ResultFilePart } from '../../wire/openai-batch.js';

const PAGE_ROWS = 1000;

/** Why a request has no response, as OpenAI's error file says it: it never ran, or was quarantined. */
const NO_RESPONSE: Readonly<Record<string, string>> = {
  expired: '{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}',
  canceled: '{"code":"batch_cancelled","message":"This request was not executed because the batch was cancelled."}',
  errored: JSON.stringify({ code: 'server_error', message: QUARANTINE_MESSAGE }),
};

/** The fixed parts of a line, all ASCII: `{"id":"batch_req_KEY","custom_id":ID` then the response and error. */
const ID_HEAD = '{"id":"batch_req_';
const CUSTOM_ID_HEAD = '","custom_id":';
const RAN_HEAD = ',"response":';
const RAN_TAIL = ',"error":null}\n';
const NOT_RUN_HEAD = ',"response":null,"error":';
const NOT_RUN_TAIL = '}\n';

const notRunError = (type: string): string => NO_RESPONSE[type] ?? NO_RESPONSE.expired!;

/**
 * One line of an output or error file: `{"id","custom_id","response","error"}`. A request that ran
 * has its stored response (`{"status_code","request_id","body"}`) and a null error; one that never
 * ran, or never finished (quarantined), has a null response and the error saying why.
 */
export function resultFileLine(row: ResultRow): string {
  const head = `${ID_HEAD}${row.key}${CUSTOM_ID_HEAD}${JSON.stringify(row.customId)}`;
  if (row.result !== null) return `${head}${RAN_HEAD}${row.result}${RAN_TAIL}`;
  return `${head}${NOT_RUN_HEAD}${notRunError(row.type)}${NOT_RUN_TAIL}`;
}

/** The content of a batch's output or error file, page by page, each line ending in `\n`. */
export async function* resultFileContent(files: FileStore, batchId: string, part: ResultFilePart): AsyncGenerator<Buffer> {
  for await (const rows of files.readResultRows(batchId, part === 'output', PAGE_ROWS)) {
    let text = '';
    for (const row of rows) text += resultFileLine(row);
    yield Buffer.from(text);
  }
}

/** The size in bytes of a batch's output or error file, from the sizes of its rows: no result is read. */
export async function resultFileBytes(files: FileStore, batchId: string, part: ResultFilePart): Promise<number> {
  let bytes = 0;
  for (const group of await files.resultRowSizes(batchId, part === 'output')) {
    const framing = group.ran ? RAN_HEAD.length + RAN_TAIL.length : NOT_RUN_HEAD.length + notRunError(group.type).length + NOT_RUN_TAIL.length;
    bytes += group.rows * (ID_HEAD.length + CUSTOM_ID_HEAD.length + framing) + group.keyDigits + group.customIdBytes + group.resultBytes;
  }
  return bytes;
}
