import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { BackendSpec } from './backend-spec.js';
import { ModelCatalog } from './model-catalog.js';
import type { UpstreamModel } from './model-lists.js';

const spec = (name: string, type: BackendSpec['type'], models: string[]): BackendSpec => ({ name, type, url: `http://${name}.test`, models, concurrency: 1, timeoutMs: 1000, cacheAware: false });
const STARTED = Date.parse('2026-01-01T00:00:00Z');

/** A catalog over `specs` whose upstreams answer `lists` (or throw where a list is an Error), counting each ask. */
function catalogOf(specs: BackendSpec[], lists: Record<string, UpstreamModel[] | Error>) {
  const clock = { now: () => STARTED };
  const asked: string[] = [];
  const catalog = new ModelCatalog(specs, {
    clock,
    logger: pino({ level: 'silent' }),
    ask: async (backend) => {
      asked.push(backend.name);
      const list = lists[backend.name] ?? [];
      if (list instanceof Error) throw list;
      return list;
    },
  });
  return { catalog, clock, asked };
}

describe('ModelCatalog', () => {
  it("lists each backend's names and its upstream's models that it serves, each where batchd sends it, in config order", async () => {
    const { catalog } = catalogOf(
      [spec('claude', 'anthropic', ['claude-*']), spec('gpu', 'openai', ['llama-*', 'local-chat', 'claude-local']), spec('dev', 'emulator', ['gpt-4o-mini', 'gpt-*'])],
      {
        claude: [{ id: 'claude-sonnet-4-5', displayName: 'Claude Sonnet 4.5', created: 1_750_000_000 }, { id: 'other-model' }],
        // local-chat is the gpu backend's by name; claude-local and claude-x are not: claude-* sends them to the claude backend.
        gpu: [{ id: 'llama-3-8b', created: 1_700_000_000 }, { id: 'claude-x' }],
      },
    );
    expect(await catalog.list()).toEqual([
      { id: 'claude-sonnet-4-5', created: 1_750_000_000, displayName: 'Claude Sonnet 4.5', backend: 'claude' },
      { id: 'local-chat', created: STARTED / 1000, displayName: 'local-chat', backend: 'gpu' },
      { id: 'llama-3-8b', created: 1_700_000_000, displayName: 'llama-3-8b', backend: 'gpu' },
      { id: 'gpt-4o-mini', created: STARTED / 1000, displayName: 'gpt-4o-mini', backend: 'dev' },
    ]);
  });

  it('finds a listed model, a model only a pattern serves, and no model no backend serves', async () => {
    const { catalog } = catalogOf([spec('claude', 'anthropic', ['claude-*'])], { claude: [{ id: 'claude-sonnet-4-5', displayName: 'Claude Sonnet 4.5' }] });
    expect(await catalog.find('claude-sonnet-4-5')).toMatchObject({ displayName: 'Claude Sonnet 4.5', backend: 'claude' });
    expect(await catalog.find('claude-next')).toEqual({ id: 'claude-next', created: STARTED / 1000, displayName: 'claude-next', backend: 'claude' });
    expect(await catalog.find('mistral-large')).toBeUndefined();
  });

  it('asks each upstream once however many list at once, then not again for a minute', async () => {
    const { catalog, clock, asked } = catalogOf([spec('claude', 'anthropic', ['claude-*']), spec('gpu', 'openai', ['*'])], { claude: [{ id: 'claude-a' }] });
    await Promise.all(Array.from({ length: 50 }, () => catalog.list()));
    expect(asked).toEqual(['claude', 'gpu']);
    clock.now = () => STARTED + 59_000;
    await catalog.list();
    expect(asked).toHaveLength(2);
    clock.now = () => STARTED + 61_000;
    await catalog.list();
    expect(asked).toEqual(['claude', 'gpu', 'claude', 'gpu']);
  });

  it("keeps an upstream's last list, and the backend's names, while its upstream fails, and asks it again a minute later", async () => {
    const lists: Record<string, UpstreamModel[] | Error> = { claude: [{ id: 'claude-a' }] };
    const { catalog, clock, asked } = catalogOf([spec('claude', 'anthropic', ['claude-*', 'claude-pinned'])], lists);
    expect((await catalog.list()).map((model) => model.id)).toEqual(['claude-pinned', 'claude-a']);
    lists.claude = new Error('the model list answered HTTP 500');
    clock.now = () => STARTED + 61_000;
    expect((await catalog.list()).map((model) => model.id)).toEqual(['claude-pinned', 'claude-a']);
    expect(asked).toHaveLength(2);
    await catalog.list();
    expect(asked).toHaveLength(2);
  });
});
