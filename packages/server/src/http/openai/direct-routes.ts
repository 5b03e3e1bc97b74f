import type { FastifyInstance } from 'fastify';
import type { Backend, BackendCall, ChatAnswer } from '../../backends/backend.js';
import type { TokenCounter } from '../../backends/token-counters.js';
import type { Clock } from '../../clock.js';
import type { Lanes } from '../../engine/lanes.js';
import { isObject } from '../../json.js';
import { sendCompletions, sendEmbeddings, sendResponses } from '../../translate/send-openai.js';
import { invalidRequest } from '../api-error.js';
import { boundParamsBodies, clientGone, notServed, type ParamsBody } from '../call-routes.js';
import { chatError } from './chat-route.js';

interface DirectEndpoint {
  /** The field a call must have besides `model`. */
  field: string;
  send: (backend: Backend, call: BackendCall, createdSeconds: () => number) => Promise<ChatAnswer>;
}

/** The OpenAI endpoints besides chat completions that batchd answers one call at a time. */
const ENDPOINTS: Readonly<Record<string, DirectEndpoint>> = {
  '/v1/embeddings': { field: 'input', send: (backend, call) => sendEmbeddings(backend, call) },
  '/v1/completions': { field: 'prompt', send: sendCompletions },
  '/v1/responses': { field: 'input', send: sendResponses },
};

/**
 * `POST /v1/embeddings`, `POST /v1/completions` and `POST /v1/responses`: one call, as OpenAI's
 * clients make it (`embeddings.create`, `completions.create`, `responses.create`), through the
 * lane of the backend serving the model and ahead of its batch work, sent as a batch's line of
 * that endpoint is (`translate/send-openai.ts`): to an OpenAI-compatible server as it is, else
 * translated where a translation exists (the emulator's embeddings; completions and responses
 * through chat completions), else 400 naming the backend. Answered whole: `stream: true` is 400.
 * Registered in the OpenAI routes' scope: failures answer in OpenAI's error envelope.
 */
export function registerDirectRoutes(app: FastifyInstance, deps: { lanes: Lanes; counter: (model: string) => TokenCounter | undefined; clock: Clock }): void {
  const createdSeconds = () => Math.floor(deps.clock.now() / 1000);
  app.register(async (scope) => {
    boundParamsBodies(scope);
    for (const [path, endpoint] of Object.entries(ENDPOINTS)) {
      scope.post(path, async (request, reply) => {
        const { params, paramsText } = (request.body ?? {}) as ParamsBody;
        if (!isObject(params)) throw invalidRequest('body: must be a JSON object');
        if (typeof params.model !== 'string' || params.model === '') throw invalidRequest('model: a model name is required');
        if (params[endpoint.field] === undefined || params[endpoint.field] === null) throw invalidRequest(`${endpoint.field}: is required`);
        if (params.stream === true) throw invalidRequest(`stream: batchd answers ${path} whole; leave stream out`);
        const lane = deps.lanes.for(params.model);
        if (!lane) throw notServed(params.model, deps.counter(params.model));
        const call = { params, paramsText, signal: clientGone(reply) };
        const answer = (await lane.callWith((backend) => endpoint.send(backend, call, createdSeconds), 'interactive'))!;
        if (answer.kind === 'error') throw chatError(answer);
        return reply.status(answer.status).send(answer.json);
      });
    }
  });
}
