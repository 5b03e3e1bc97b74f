import { errored, succeeded } from './outcome.js';
import type { RequestDialect } from './request-dialect.js';
import { validateParams } from '../translate/validate-params.js';

/** Message batch requests: Messages params, checked here, and `{"type":"succeeded"|"errored",...}` results. */
export const messagesDialect: RequestDialect = {
  parse(text) {
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { invalid: 'params: not valid JSON' };
    }
    const invalid = validateParams(params);
    return invalid === null ? { params, model: params.model as string } : { invalid };
  },

  async call(key, lane, params, signal, attempt, stillWanted) {
    const outcome = await lane.call(params, signal, 'batch', attempt, stillWanted);
    if (outcome === null || outcome.kind === 'error') return outcome;
    return { kind: 'succeeded', completion: succeeded(key, outcome.message) };
  },

  errored,
};
