import { newRequestId } from '../ids.js';
import { chatErrorBody, chatErrorStatus } from './openai-error.js';

/** A stored result of a chat request: the `response` of its line in the batch's output or error file. */
export function chatResponse(statusCode: number, body: unknown): string {
  return `{"status_code":${statusCode},"request_id":"${newRequestId()}","body":${JSON.stringify(body)}}`;
}

/** The `response` of a chat request that ends with this error, in OpenAI's error shape. */
export function chatErrorResponse(errorType: string, message: string): string {
  return chatResponse(chatErrorStatus(errorType), chatErrorBody(errorType, message));
}
