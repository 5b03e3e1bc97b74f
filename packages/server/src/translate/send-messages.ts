import type { Backend, BackendCall, BackendOutcome } from '../backends/backend.js';
import { invalidResponseBody } from '../backends/classify.js';
import { fromOpenAI } from './from-openai.js';
import { toOpenAI } from './to-openai.js';

/**
 * Sends Messages params to `backend`: as they are to a backend that speaks Messages, else
 * translated with `toOpenAI` (a param that has no translation answers 400
 * `invalid_request_error` naming it, without a call) and the completion translated back into a
 * `Message` with `fromOpenAI`; a 2xx whose body is not a usable chat completion is a retryable
 * `api_error` ("invalid response body: …").
 */
export async function sendMessages(backend: Backend, call: BackendCall): Promise<BackendOutcome> {
  if ('send' in backend) return backend.send(call);
  const translated = toOpenAI(call.params);
  if ('error' in translated) return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message: translated.error };
  const answer = await backend.post('/chat/completions', translated.body, call.signal, call.routingKey);
  if (answer.kind === 'error') return answer;
  if (answer.json === undefined) return invalidResponseBody(answer.status);
  const result = fromOpenAI(answer.json, { model: translated.body.model, stopSequences: translated.body.stop });
  return 'error' in result ? invalidResponseBody(answer.status, result.error) : { kind: 'message', message: result.message };
}
