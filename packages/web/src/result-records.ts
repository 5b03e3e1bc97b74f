import type { MessageBatchIndividualResponse, MessageBatchResult } from '@batchd/sdk';

export type ResultType = MessageBatchResult['type'];
export const RESULT_TYPES: readonly ResultType[] = ['succeeded', 'errored', 'canceled', 'expired'];

/**
 * A result as the browser keeps it: what the list shows, plus the result's compact JSON, parsed
 * again only when it is opened. One string costs far less memory than the decoded object, which
 * matters with a hundred thousand results.
 */
export interface ResultRecord {
  customId: string;
  type: ResultType;
  /** The start of the reply's text, or the error message. */
  preview: string;
  json: string;
}

const PREVIEW_CHARS = 160;

function previewOf(result: MessageBatchResult): string {
  switch (result.type) {
    case 'succeeded': {
      const block = result.message.content.find((b) => b.type === 'text') as { text?: unknown } | undefined;
      return typeof block?.text === 'string' ? block.text.slice(0, PREVIEW_CHARS) : `${result.message.content.length} content blocks`;
    }
    case 'errored':
      return `${result.error.error.type}: ${result.error.error.message}`.slice(0, PREVIEW_CHARS);
    case 'canceled':
      return 'Canceled before it was sent';
    case 'expired':
      return 'Expired before it was sent';
  }
}

export function toRecord(item: MessageBatchIndividualResponse): ResultRecord {
  return { customId: item.custom_id, type: item.result.type, preview: previewOf(item.result), json: JSON.stringify(item) };
}

export function parseRecord(record: ResultRecord): MessageBatchIndividualResponse {
  return JSON.parse(record.json) as MessageBatchIndividualResponse;
}

export interface ResultFilter {
  type: ResultType | null;
  /** Part of the custom_id, matched without regard to case. */
  search: string;
}

export function matcher(filter: ResultFilter): (record: ResultRecord) => boolean {
  const needle = filter.search.trim().toLowerCase();
  return (record) => (filter.type === null || record.type === filter.type) && (needle === '' || record.customId.toLowerCase().includes(needle));
}
