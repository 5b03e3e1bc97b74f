/**
 * Where the server finds the dashboard's build: `packages/server/dashboard`, which the root build
 * fills from `packages/web/dist` and the server package ships. The same from `src/` and `dist/`.
 */
export const DASHBOARD_DIR = new URL('../dashboard/', import.meta.url);
