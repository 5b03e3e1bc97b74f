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
 * `packages/server/dashboard`, which the server package ships). Its routes are `public`: they
 * serve files, never data, and the dashboard sends the key the user entered with its API calls. Routes registered by the
 * API (`/v1/*`, `/health`, `/metrics`) take precedence over the static files, and a path matching
 * no file gets the API's 404 envelope. Without a build, `/` answers a plain-text hint.
 */
export function registerDashboard(app: FastifyInstance, distDir: URL | string): void {
  const root = typeof distDir === 'string' ? distDir : fileURLToPath(distDir);
  void app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    if (!existsSync(join(root, 'index.html'))) {
      scope.get('/', async (_request, reply) => reply.type('text/plain; charset=utf-8').header('cache-control', REVALIDATE).send(NOT_BUILT_HINT));
      return;
    }
    const assetsDir = join(root, 'assets') + sep;
    await scope.register(fastifyStatic, {
      root,
      prefix: '/',
      cacheControl: false,
      // Plain file names only: a path that would climb out of the build, or that still holds
      // escapes after the router's decoding, is a missing file (404), not an error.
      allowedPath: (pathname) => !/%|\\|\/\.\.?(\/|$)/.test(pathname),
      setHeaders(res, filePath) {
        res.setHeader('cache-control', filePath.startsWith(assetsDir) ? IMMUTABLE : REVALIDATE);
      },
    });
  });
}
