// Copies the dashboard's build (packages/web/dist) into packages/server/dashboard, which the server serves and ships.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../packages/web/dist/', import.meta.url);
const to = new URL('../packages/server/dashboard/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
