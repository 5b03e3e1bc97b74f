import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';

/** Connections allowed when the open-file limit cannot be read. */
const FALLBACK_MAX_CONNECTIONS = 4_096;

/**
 * The default `--max-connections`: three quarters of the process's open-file limit, so the rest
 * stays for the engine's backend calls, the database, spool and results files.
 */
export function defaultMaxConnections(limits = readOpenFileLimit()): number {
  return limits === null ? FALLBACK_MAX_CONNECTIONS : Math.max(64, Math.floor((limits * 3) / 4));
}

/** The soft limit on open files, from `/proc/self/limits`; null where there is none to read. */
function readOpenFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((text) => text.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isSafeInteger(soft) && soft > 0 ? soft : null;
  } catch {
    return null;
  }
}

/**
 * Bounds the connections the API holds, so clients that connect and then send slowly or not at
 * all cannot take every file descriptor: past `max`, a new connection is closed as it arrives,
 * and one client address may hold at most half of `max`, so a single flooding address always
 * leaves room for others.
 */
export function limitConnections(server: Server, max: number): void {
  const perAddress = Math.max(1, Math.floor(max / 2));
  const held = new Map<string, number>();
  server.maxConnections = max;
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (held.get(address) ?? 0) + 1;
    if (count > perAddress) {
      socket.destroy();
      return;
    }
    held.set(address, count);
    socket.once('close', () => {
      const left = held.get(address)! - 1;
      if (left === 0) held.delete(address);
      else held.set(address, left);
    });
  });
}
