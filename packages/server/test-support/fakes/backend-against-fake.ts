import { afterEach } from 'vitest';
import { FakeProvider, type FakeProviderOptions } from './fake-provider.js';

interface Closable {
  close(): Promise<void>;
}

/** A backend's options in a test, or a function of the fake's URL that makes them. */
type BackendOptions<O> = Partial<O> | ((url: string) => Partial<O>);

/**
 * A test file's `setup`: each call starts a fake provider of `shape` that expects `apiKey`, and a
 * backend that `build` makes against its URL with that key and the test's options. Both are
 * closed after each test, the backends first.
 */
export function backendAgainstFake<B extends Closable, O extends { url: unknown; apiKey?: string }>(
  shape: FakeProviderOptions['shape'],
  apiKey: string,
  build: (options: O) => B,
): (provider?: Omit<FakeProviderOptions, 'shape'>, backend?: BackendOptions<O>) => Promise<{ fake: FakeProvider; backend: B }> {
  let fakes: FakeProvider[] = [];
  let backends: B[] = [];
  afterEach(async () => {
    await Promise.all(backends.map((backend) => backend.close()));
    await Promise.all(fakes.map((fake) => fake.close()));
    fakes = [];
    backends = [];
  });
  return async (provider = {}, backend = {}) => {
    const fake = await FakeProvider.start({ shape, apiKey, ...provider });
    fakes.push(fake);
    const built = build({ url: fake.url, apiKey, ...(typeof backend === 'function' ? backend(fake.url) : backend) } as O);
    backends.push(built);
    return { fake, backend: built };
  };
}
