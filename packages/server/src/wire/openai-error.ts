/**
 * batchd's error types (the Anthropic ones) in OpenAI's error shape,
 * `{ error: { message, type, param, code } }`, with the HTTP status OpenAI answers for each:
 *
 * | batchd type             | status | OpenAI type                 | code                   |
 * |-------------------------|--------|-----------------------------|------------------------|
 * | `invalid_request_error` | 400    | `invalid_request_error`     | null                   |
 * | `authentication_error`  | 401    | `invalid_request_error`     | `invalid_api_key`      |
 * | `permission_error`      | 403    | `invalid_request_error`     | null                   |
 * | `not_found_error`       | 404    | `invalid_request_error`     | null                   |
 * | `request_too_large`     | 413    | `invalid_request_error`     | null                   |
 * | `rate_limit_error`      | 429    | `rate_limit_error`          | `rate_limit_exceeded`  |
 * | `billing_error`         | 429    | `insufficient_quota`        | `insufficient_quota`   |
 * | `api_error`             | 500    | `server_error`              | null                   |
 * | `overloaded_error`      | 503    | `service_unavailable_error` | `server_is_overloaded` |
 * | `timeout_error`         | 504    | `server_error`              | null                   |
 * | anything else           | 500    | `server_error`              | null                   |
 *
 * `param` is the parameter an invalid request names: batchd's messages start with it
 * (`temperature (above 1): not supported…`, `messages.2.tool_calls.0.function.arguments: …`), and
 * the path before the first `:` (without a parenthesised note) becomes `param`. Other error types,
 * and messages that do not start with a path, get null.
 */

export interface ChatErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface OpenAIError {
  status: number;
  type: string;
  code: string | null;
}

const SERVER_ERROR: OpenAIError = { status: 500, type: 'server_error', code: null };

const ERRORS: Readonly<Record<string, OpenAIError>> = {
  invalid_request_error: { status: 400, type: 'invalid_request_error', code: null },
  authentication_error: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  permission_error: { status: 403, type: 'invalid_request_error', code: null },
  not_found_error: { status: 404, type: 'invalid_request_error', code: null },
  request_too_large: { status: 413, type: 'invalid_request_error', code: null },
  rate_limit_error: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  billing_error: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota' },
  api_error: SERVER_ERROR,
  overloaded_error: { status: 503, type: 'service_unavailable_error', code: 'server_is_overloaded' },
  timeout_error: { status: 504, type: 'server_error', code: null },
};

/** A leading param path such as `tools.0.function.name`, optionally followed by a `(note)`, then `: `. */
const PARAM_PREFIX = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)(?: \([^)]*\))?: /;

function errorOf(errorType: string): OpenAIError {
  return Object.hasOwn(ERRORS, errorType) ? (ERRORS[errorType] as OpenAIError) : SERVER_ERROR;
}

/** The HTTP status OpenAI answers with the error `errorType` becomes. */
export function chatErrorStatus(errorType: string): number {
  return errorOf(errorType).status;
}

/** `errorType` and `message` as an OpenAI error body. */
export function chatErrorBody(errorType: string, message: string): ChatErrorBody {
  const { type, code } = errorOf(errorType);
  const param = errorType === 'invalid_request_error' ? (PARAM_PREFIX.exec(message)?.[1] ?? null) : null;
  return { error: { message, type, param, code } };
}
