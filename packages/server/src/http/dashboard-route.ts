import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Hashed file names never change content, so browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else (index.html, favicon) is revalidated on every load so a new build shows at once. */
const REVALIDATE = 'no-cache';

const NOT_BUILT_HINT =
  'batchd is running, but its dashboard has not been built.\n' +
  'Run `npm run build` at the repository root (or `npm install`, which builds it), then reload.\n' +
  'The API is served under /v1/.\n';

/**
 * Serves the dashboard's production build at `/` (the root build copies `packages/web/dist` into
 * `packages/server/dashboard`, which the server package ships). The files need no API
 * key; the dashboard sends the key the user entered with its API calls. Routes registered by the
 * API (`/v1/*`, `/health`, `/metrics`) take precedence over the static files, and a path matching
 * no file gets the API's 404 envelope. Without a build, `/` answers a plain-text hint.
 */
export function registerDashboard(app: FastifyInstance, distDir: URL | string): void {
  const root = typeof distDir === 'string' ? distDir : fileURLToPath(distDir);
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', async (_request, reply) => reply.type('text/plain; charset=utf-8').header('cache-control', REVALIDATE).send(NOT_BUILT_HINT));
    return;
  }
  const assetsDir = join(root, 'assets') + sep;
  void app.register(fastifyStatic, {
    root,
    prefix: '/',
    cacheControl: false,
    setHeaders(res, filePath) {
      res.setHeader('cache-control', filePath.startsWith(assetsDir) ? IMMUTABLE : REVALIDATE);
    },
  });
}
