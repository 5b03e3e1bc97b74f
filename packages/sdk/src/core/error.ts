import type { MessageBatch } from '../wire-types.js';

/** The parsed JSON body of an error response. batchd always sends the `ErrorResponse` envelope. */
export interface APIErrorBody {
  type?: string;
  error?: { type?: string; message?: string; [key: string]: unknown };
  request_id?: string | null;
  [key: string]: unknown;
}

/** Base class of every error the SDK throws. */
export class BatchdError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, 'name', { value: new.target.name, writable: true, configurable: true });
  }
}

/** An HTTP request failed: either the server answered with an error status or no answer arrived. */
export class APIError<
  TStatus extends number | undefined = number | undefined,
  THeaders extends Headers | undefined = Headers | undefined,
> extends BatchdError {
  /** HTTP status of the response, or undefined when no response arrived. */
  readonly status: TStatus;
  /** Headers of the response, or undefined when no response arrived. */
  readonly headers: THeaders;
  /** The parsed JSON body of the response; undefined when the body was empty or not a JSON object. */
  readonly error: APIErrorBody | undefined;
  /** `error.type` from the body, e.g. `"rate_limit_error"`. */
  readonly type: string | null;
  /** The `request-id` response header, to quote when reporting a problem. */
  readonly requestID: string | null | undefined;

  constructor(
    status: TStatus,
    body: APIErrorBody | undefined,
    message: string | undefined,
    headers: THeaders,
    options?: ErrorOptions,
  ) {
    super(APIError.makeMessage(status, body, message), options);
    this.status = status;
    this.headers = headers;
    this.error = body;
    this.type = typeof body?.error?.type === 'string' ? body.error.type : null;
    this.requestID = headers?.get('request-id');
  }

  private static makeMessage(status: number | undefined, body: APIErrorBody | undefined, message?: string): string {
    const detail = typeof body?.error?.message === 'string' ? body.error.message : body ? JSON.stringify(body) : message;
    if (status !== undefined && detail) return `${status} ${detail}`;
    if (status !== undefined) return `${status} status code (no body)`;
    return detail || '(no status code or body)';
  }

  /**
   * Maps an error response to its class: 400 BadRequestError, 401 AuthenticationError,
   * 403 PermissionDeniedError, 404 NotFoundError, 409 ConflictError, 413 RequestTooLargeError,
   * 422 UnprocessableEntityError, 429 RateLimitError, >=500 InternalServerError, else APIError.
   * `body` is the parsed JSON body; `message` the raw text when the body was not JSON.
   */
  static generate(
    status: number,
    body: APIErrorBody | undefined,
    message: string | undefined,
    headers: Headers,
  ): APIError<number, Headers> {
    const ErrorClass = STATUS_ERRORS[status] ?? (status >= 500 ? InternalServerError : APIError);
    return new ErrorClass(status, body, message, headers);
  }
}

export class BadRequestError extends APIError<number, Headers> {}
export class AuthenticationError extends APIError<number, Headers> {}
export class PermissionDeniedError extends APIError<number, Headers> {}
export class NotFoundError extends APIError<number, Headers> {}
export class ConflictError extends APIError<number, Headers> {}
export class RequestTooLargeError extends APIError<number, Headers> {}
export class UnprocessableEntityError extends APIError<number, Headers> {}
export class RateLimitError extends APIError<number, Headers> {}
export class InternalServerError extends APIError<number, Headers> {}

const STATUS_ERRORS: Record<number, typeof APIError<number, Headers> | undefined> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: RequestTooLargeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** No response arrived: the connection failed or was dropped. */
export class APIConnectionError extends APIError<undefined, undefined> {
  constructor({ message, cause }: { message?: string; cause?: unknown } = {}) {
    super(undefined, undefined, message ?? 'Connection error.', undefined, cause === undefined ? undefined : { cause });
  }
}

/** No response headers arrived within the request's `timeout`. */
export class APIConnectionTimeoutError extends APIConnectionError {
  constructor({ message }: { message?: string } = {}) {
    super({ message: message ?? 'Request timed out.' });
  }
}

/** The caller's `signal` aborted the request (or the wait between retries). */
export class APIUserAbortError extends APIError<undefined, undefined> {
  constructor({ message }: { message?: string } = {}) {
    super(undefined, undefined, message ?? 'Request was aborted.', undefined);
  }
}

/** A line of a JSONL results stream could not be decoded (invalid UTF-8 or JSON, or the wrong shape). */
export class JSONLDecodeError extends BatchdError {
  /** 1-based number of the offending line. */
  readonly lineNumber: number;

  constructor(lineNumber: number, reason: string, options?: ErrorOptions) {
    super(`Malformed JSONL at line ${lineNumber}: ${reason}`, options);
    this.lineNumber = lineNumber;
  }
}

/** `batches.wait()` reached its `timeout` before the batch ended. */
export class WaitTimeoutError extends BatchdError {
  /** The batch as last retrieved, or null when no retrieve succeeded. */
  readonly batch: MessageBatch | null;

  constructor(id: string, timeout: number, batch: MessageBatch | null) {
    super(`Batch ${id} did not end within ${timeout} ms (last status: ${batch?.processing_status ?? 'unknown'}).`);
    this.batch = batch;
  }
}

/** `batches.submit()` failed after some of its batches were already created. */
export class SubmitError extends BatchdError {
  /** The batches created before the failure; they keep running unless canceled. */
  readonly batches: MessageBatch[];

  constructor(message: string, batches: MessageBatch[], options?: ErrorOptions) {
    super(message, options);
    this.batches = batches;
  }
}
