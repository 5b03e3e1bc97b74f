import { withParams, type Backend, type BackendCall, type ChatOutcome } from '../backends/backend.js';
import { chatToMessages } from './chat-to-messages.js';
import { messageToChatCompletion } from './message-to-chat.js';

/**
 * Sends a chat completions request to `backend`: as it is to a backend that speaks chat
 * completions, else translated to Messages params (a param that has no translation answers 400
 * `invalid_request_error` naming it, without a call) and the `Message` answered translated back.
 */
export async function sendChat(backend: Backend, call: BackendCall, createdSeconds: () => number): Promise<ChatOutcome> {
  if ('sendChat' in backend) return backend.sendChat(call);
  const translated = chatToMessages(call.params);
  if ('error' in translated) return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message: translated.error };
  const outcome = await backend.send(withParams(call, translated.params));
  if (outcome.kind === 'error') return outcome;
  return { kind: 'completion', completion: messageToChatCompletion(outcome.message, { created: createdSeconds() }) };
}
