/**
 * The parts of the OpenAI chat completions wire format that batchd writes. Answers are read as
 * `unknown` and checked field by field in `from-openai.ts`, since compatible servers differ.
 */

export type ChatContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ChatContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters: unknown; strict?: boolean };
}

export type ChatToolChoice = 'auto' | 'required' | 'none' | { type: 'function'; function: { name: string } };

/** The body POSTed to `{url}/chat/completions`. */
export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  user?: string;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
}

/** Why a chat completion's generation stopped. */
export type ChatFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** The `chat.completion` object a chat completions server answers (non-streaming). */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  /** When the completion was made, in seconds since the epoch. */
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage: ChatCompletionUsage;
}

export interface ChatCompletionChoice {
  index: number;
  message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: ChatToolCall[] };
  logprobs: null;
  finish_reason: ChatFinishReason;
}

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  /** Sent by OpenAI and some compatible servers: `reasoning_tokens` are part of `completion_tokens`. */
  completion_tokens_details?: { reasoning_tokens?: number };
}
