/**
 * Translates a chat completions request body into Messages API params, or names the first param
 * it cannot carry over.
 */

export type ChatToMessagesResult = { params: Record<string, unknown> } | { error: string };

export function chatToMessages(body: unknown): ChatToMessagesResult {
  return { error: `${typeof body}: not implemented` };
}
