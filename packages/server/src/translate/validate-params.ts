import { isObject } from '../json.js';
/**
 * The Messages API's request validation, applied to each batched request's `params` when the
 * engine processes it. A failure becomes an `errored` result with `invalid_request_error` and the
 * message returned here, worded like the hosted API's (`<field path>: <problem>`).
 *
 * Only the fields batchd understands are checked; unknown top-level keys pass through so that newer
 * API fields reach backends that support them. Model existence and model-specific limits are left
 * to the backend.
 */

type Params = Record<string, unknown>;

/** One check: the error message for the first problem it finds, or null. */
type Check = (params: Params) => string | null;

const MAX_MODEL_LENGTH = 256;
const MAX_USER_ID_LENGTH = 512;
const MIN_THINKING_BUDGET = 1024;

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function numberInRange(field: string, value: unknown, min: number, max: number): string | null {
  if (!isNumber(value)) return `${field}: Input should be a valid number`;
  if (value < min) return `${field}: Input should be greater than or equal to ${min}`;
  if (value > max) return `${field}: Input should be less than or equal to ${max}`;
  return null;
}

/** A text block as used in `system` and in message content: `{type:'text', text: string}`. */
function checkTextBlock(path: string, block: Record<string, unknown>): string | null {
  if (!('text' in block)) return `${path}.text: Field required`;
  if (typeof block.text !== 'string') return `${path}.text: Input should be a valid string`;
  return null;
}

function checkContent(path: string, content: unknown): string | null {
  if (typeof content === 'string') {
    return content.length > 0 ? null : `${path}: String should have at least 1 character`;
  }
  if (!Array.isArray(content)) return `${path}: Input should be a valid string or a list of content blocks`;
  if (content.length === 0) return `${path}: List should have at least 1 item after validation, not 0`;
  for (const [index, block] of content.entries()) {
    const blockPath = `${path}.${index}`;
    if (!isObject(block)) return `${blockPath}: Input should be a valid dictionary`;
    if (!('type' in block)) return `${blockPath}.type: Field required`;
    if (typeof block.type !== 'string') return `${blockPath}.type: Input should be a valid string`;
    if (block.type === 'text') {
      const problem = checkTextBlock(blockPath, block);
      if (problem) return problem;
    }
  }
  return null;
}

function checkMessage(index: number, message: unknown): string | null {
  const path = `messages.${index}`;
  if (!isObject(message)) return `${path}: Input should be a valid dictionary`;
  if (!('role' in message)) return `${path}.role: Field required`;
  if (message.role !== 'user' && message.role !== 'assistant') {
    return `${path}.role: Input should be 'user' or 'assistant'`;
  }
  if (!('content' in message)) return `${path}.content: Field required`;
  return checkContent(`${path}.content`, message.content);
}

const checkModel: Check = ({ model }) => {
  if (model === undefined) return 'model: Field required';
  if (typeof model !== 'string') return 'model: Input should be a valid string';
  if (model.length === 0) return 'model: String should have at least 1 character';
  if (model.length > MAX_MODEL_LENGTH) return `model: String should have at most ${MAX_MODEL_LENGTH} characters`;
  return null;
};

const checkMaxTokens: Check = ({ max_tokens }) => {
  if (max_tokens === undefined) return 'max_tokens: Field required';
  if (!isInteger(max_tokens)) return 'max_tokens: Input should be a valid integer';
  if (max_tokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  return null;
};

const checkMessages: Check = ({ messages }) => {
  if (messages === undefined) return 'messages: Field required';
  if (!Array.isArray(messages)) return 'messages: Input should be a valid list';
  if (messages.length === 0) return 'messages: List should have at least 1 item after validation, not 0';
  for (const [index, message] of messages.entries()) {
    const problem = checkMessage(index, message);
    if (problem) return problem;
  }
  const first: unknown = messages[0];
  if (isObject(first) && first.role !== 'user') return 'messages: first message must use the "user" role';
  return null;
};

const checkStream: Check = ({ stream }) => {
  if (stream === undefined) return null;
  if (typeof stream !== 'boolean') return 'stream: Input should be a valid boolean';
  return stream ? 'stream: streaming is not supported for batch requests' : null;
};

const checkSystem: Check = ({ system }) => {
  if (system === undefined || typeof system === 'string') return null;
  if (!Array.isArray(system)) return 'system: Input should be a valid string or a list of text blocks';
  for (const [index, block] of system.entries()) {
    const path = `system.${index}`;
    if (!isObject(block)) return `${path}: Input should be a valid dictionary`;
    if (block.type !== 'text') return `${path}.type: Input should be 'text'`;
    const problem = checkTextBlock(path, block);
    if (problem) return problem;
  }
  return null;
};

const checkStopSequences: Check = ({ stop_sequences }) => {
  if (stop_sequences === undefined) return null;
  if (!Array.isArray(stop_sequences)) return 'stop_sequences: Input should be a valid list';
  const index = stop_sequences.findIndex((sequence) => typeof sequence !== 'string');
  return index === -1 ? null : `stop_sequences.${index}: Input should be a valid string`;
};

const checkTemperature: Check = ({ temperature }) =>
  temperature === undefined ? null : numberInRange('temperature', temperature, 0, 1);

const checkTopP: Check = ({ top_p }) => (top_p === undefined ? null : numberInRange('top_p', top_p, 0, 1));

const checkTopK: Check = ({ top_k }) => {
  if (top_k === undefined) return null;
  if (!isInteger(top_k)) return 'top_k: Input should be a valid integer';
  return top_k < 0 ? 'top_k: Input should be greater than or equal to 0' : null;
};

const checkMetadata: Check = ({ metadata }) => {
  if (metadata === undefined) return null;
  if (!isObject(metadata)) return 'metadata: Input should be a valid dictionary';
  const userId = metadata.user_id;
  if (userId === undefined || userId === null) return null;
  if (typeof userId !== 'string') return 'metadata.user_id: Input should be a valid string';
  if (userId.length > MAX_USER_ID_LENGTH) {
    return `metadata.user_id: String should have at most ${MAX_USER_ID_LENGTH} characters`;
  }
  return null;
};

const checkTools: Check = ({ tools }) => {
  if (tools === undefined) return null;
  if (!Array.isArray(tools)) return 'tools: Input should be a valid list';
  for (const [index, tool] of tools.entries()) {
    const path = `tools.${index}`;
    if (!isObject(tool)) return `${path}: Input should be a valid dictionary`;
    if (!('name' in tool)) return `${path}.name: Field required`;
    if (typeof tool.name !== 'string') return `${path}.name: Input should be a valid string`;
    if (tool.name.length === 0) return `${path}.name: String should have at least 1 character`;
  }
  return null;
};

const checkToolChoice: Check = ({ tool_choice }) => {
  if (tool_choice === undefined) return null;
  if (!isObject(tool_choice)) return 'tool_choice: Input should be a valid dictionary';
  const { type } = tool_choice;
  if (type !== 'auto' && type !== 'any' && type !== 'tool' && type !== 'none') {
    return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'";
  }
  if (type !== 'tool') return null;
  if (!('name' in tool_choice)) return 'tool_choice.name: Field required';
  return typeof tool_choice.name === 'string' ? null : 'tool_choice.name: Input should be a valid string';
};

const checkThinking: Check = ({ thinking, max_tokens }) => {
  if (thinking === undefined) return null;
  if (!isObject(thinking)) return 'thinking: Input should be a valid dictionary';
  const { type, budget_tokens } = thinking;
  if (type !== 'enabled' && type !== 'disabled' && type !== 'adaptive') {
    return "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'";
  }
  if (type !== 'enabled') return null;
  if (budget_tokens === undefined) return 'thinking.budget_tokens: Field required';
  if (!isInteger(budget_tokens)) return 'thinking.budget_tokens: Input should be a valid integer';
  if (budget_tokens < MIN_THINKING_BUDGET) {
    return `thinking.budget_tokens: Input should be greater than or equal to ${MIN_THINKING_BUDGET}`;
  }
  if (isInteger(max_tokens) && max_tokens <= budget_tokens) {
    return 'max_tokens: must be greater than thinking.budget_tokens';
  }
  return null;
};

/** Run in order; the first problem found is the one reported. */
const CHECKS: readonly Check[] = [
  checkModel,
  checkMaxTokens,
  checkMessages,
  checkStream,
  checkSystem,
  checkStopSequences,
  checkTemperature,
  checkTopP,
  checkTopK,
  checkMetadata,
  checkTools,
  checkToolChoice,
  checkThinking,
];

/** What a token count reads (`POST /v1/messages/count_tokens`): no `max_tokens`, no sampling. */
const COUNT_CHECKS: readonly Check[] = [checkModel, checkMessages, checkSystem, checkTools, checkToolChoice, checkThinking];

/** Validates one batched request's `params`: null when valid, else the error message to report. */
export function validateParams(params: unknown): string | null {
  return firstProblem(params, CHECKS);
}

/** Validates the params of a token count: null when valid, else the error message to report. */
export function validateCountParams(params: unknown): string | null {
  return firstProblem(params, COUNT_CHECKS);
}

function firstProblem(params: unknown, checks: readonly Check[]): string | null {
  if (!isObject(params)) return 'params: Input should be a valid dictionary';
  for (const check of checks) {
    const problem = check(params);
    if (problem) return problem;
  }
  return null;
}
