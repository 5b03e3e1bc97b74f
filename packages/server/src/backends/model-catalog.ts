import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { matchesAnyModel } from '../model-pattern.js';
import type { BackendSpec } from './backend-spec.js';
import { upstreamModels, type UpstreamModel } from './model-lists.js';

/** A model batchd serves by name. */
export interface ListedModel {
  id: string;
  /** When the upstream says it was made, else when this server started: seconds since the epoch. */
  created: number;
  displayName: string;
  /** The backend batchd sends it to. */
  backend: string;
}

/** How long an upstream's list is kept, answered or failed, before it is asked again. */
const KEEP_MS = 60_000;
const ASK_TIMEOUT_MS = 10_000;

interface Kept {
  models: UpstreamModel[];
  until: number;
  asking?: Promise<void>;
}

/**
 * The models batchd serves by name, for `GET /v1/models`: each backend's model names that are not
 * patterns, and the models its upstream lists (`model-lists.ts`) that its patterns match, in
 * config order; each listed only where batchd sends it (the first backend whose patterns match).
 * An upstream's list is kept for a minute, and asked for by one call at a time however many
 * clients list at once; one that cannot be had leaves the backend's names and its last list, and
 * is asked again a minute later.
 */
export class ModelCatalog {
  readonly #routes: Array<{ spec: BackendSpec; serves: (model: string) => boolean }>;
  readonly #kept = new Map<string, Kept>();
  readonly #startedSeconds: number;

  constructor(
    specs: readonly BackendSpec[],
    private readonly options: { clock: Clock; logger: Logger; ask?: typeof upstreamModels },
  ) {
    this.#routes = specs.map((spec) => ({ spec, serves: matchesAnyModel(spec.models) }));
    this.#startedSeconds = Math.floor(options.clock.now() / 1000);
  }

  /** The backend `model` goes to, if any serves it. */
  backendOf(model: string): string | undefined {
    return this.#routes.find((route) => route.serves(model))?.spec.name;
  }

  /** Every model served by name, its upstreams' lists asked for when they are older than a minute. */
  async list(): Promise<ListedModel[]> {
    await Promise.all(this.#routes.map(({ spec }) => this.#refresh(spec)));
    const listed = new Map<string, ListedModel>();
    for (const { spec } of this.#routes) {
      const named = spec.models.filter((pattern) => !pattern.includes('*')).map((id): UpstreamModel => ({ id }));
      for (const model of [...named, ...(this.#kept.get(spec.name)?.models ?? [])]) {
        if (listed.has(model.id) || this.backendOf(model.id) !== spec.name) continue;
        listed.set(model.id, { id: model.id, created: model.created ?? this.#startedSeconds, displayName: model.displayName ?? model.id, backend: spec.name });
      }
    }
    return [...listed.values()];
  }

  /** The model `id` as listed, or as a backend's pattern serves it; undefined when none does. */
  async find(id: string): Promise<ListedModel | undefined> {
    const backend = this.backendOf(id);
    if (backend === undefined) return undefined;
    return (await this.list()).find((model) => model.id === id) ?? { id, created: this.#startedSeconds, displayName: id, backend };
  }

  async #refresh(spec: BackendSpec): Promise<void> {
    const kept = this.#kept.get(spec.name) ?? { models: [], until: 0 };
    this.#kept.set(spec.name, kept);
    if (kept.asking) return kept.asking;
    if (this.options.clock.now() < kept.until) return;
    const ask = this.options.ask ?? upstreamModels;
    kept.asking = ask(spec, AbortSignal.timeout(ASK_TIMEOUT_MS))
      .then((models) => void (kept.models = models))
      .catch((error: unknown) => this.options.logger.warn({ err: error, backend: spec.name }, 'could not list the models of a backend'))
      .finally(() => {
        kept.until = this.options.clock.now() + KEEP_MS;
        kept.asking = undefined;
      });
    return kept.asking;
  }
}
