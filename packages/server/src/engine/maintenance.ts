import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { FileStore } from '../store/file-store.js';
import type { UpkeepStore } from '../store/store.js';
import { GuardedTick, runStep } from './guarded-tick.js';

export interface MaintenanceOptions {
  /** The sweeps, the uploaded files whose expired ones it removes, and the records of long-expired uploads. */
  store: UpkeepStore & { readonly files: Pick<FileStore, 'purgeExpired' | 'uploads'> };
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** Called when a step put requests back in the queue, so the engine looks at once. */
  onRequeue: () => void;
  /** Most request rows of deleted or archived batches (and most create records) removed per tick. */
  purgeLimit?: number;
}

/** Request rows removed per purge transaction: each is short, so API calls are served between them. */
const PURGE_CHUNK = 500;

/** Expired uploaded files removed per tick at most: each may hold 200 MB. */
const EXPIRED_FILES_PER_TICK = 50;

/** How long an expired upload's record is kept, so a late part or completion is told it expired rather than not found. */
const UPLOAD_RECORDS_KEPT_MS = 24 * 60 * 60 * 1000;

/** Results files written per tick at most: each may take a second or two for a large batch. */
const RESULTS_FILES_PER_TICK = 4;

/** Runs a purge step for up to `limit` rows in short transactions, yielding between them. */
async function inChunks(purge: (limit: number) => Promise<number>, limit: number): Promise<number> {
  let removed = 0;
  while (removed < limit) {
    const changed = await purge(Math.min(PURGE_CHUNK, limit - removed));
    removed += changed;
    if (changed === 0) break;
    await nextTurn();
  }
  return removed;
}

/**
 * The periodic upkeep: reclaims lapsed leases, expires overdue batches, archives batches past
 * their results TTL, purges the rows of deleted and archived batches, the create records too
 * old to match a repeated create and the uploaded files past their expiry, and writes the results
 * files of large batches that ended. Ticks are guarded (see {@link GuardedTick}). Steps yield to
 * the event loop between them, so a store that works synchronously never holds up the API for long.
 */
export class Maintenance {
  private readonly loop: GuardedTick;

  constructor(private readonly options: MaintenanceOptions) {
    this.loop = new GuardedTick(() => this.runSteps(), options.intervalMs);
  }

  start(): void {
    this.loop.start();
  }

  tick(): Promise<void> {
    return this.loop.tick();
  }

  private async runSteps(): Promise<void> {
    const { store, clock, logger, onRequeue, purgeLimit = 5000 } = this.options;
    const steps: Array<[string, () => Promise<number>]> = [
      ['reclaim leases', () => store.reclaimExpiredLeases(clock.now())],
      ['expire batches', () => store.expireBatches(clock.now())],
      ['archive batches', () => store.archiveBatches(clock.now())],
      ['purge', () => inChunks((limit) => store.purge(limit), purgeLimit)],
      ['purge create records', () => inChunks((limit) => store.purgeCreateRecords(clock.now(), limit), purgeLimit)],
      ['purge expired files', () => store.files.purgeExpired(clock.now(), EXPIRED_FILES_PER_TICK)],
      ['purge ended uploads', () => inChunks((limit) => store.files.uploads.purgeUploads(clock.now() - UPLOAD_RECORDS_KEPT_MS, limit), purgeLimit)],
      ['file results', () => store.fileResults?.(RESULTS_FILES_PER_TICK, (batch, error) => logger.warn({ err: error, batch }, 'writing a results file failed; its results are served from the database')) ?? Promise.resolve(0)],
    ];
    for (const [name, step] of steps) {
      await nextTurn();
      const changed = await runStep(logger, 'maintenance step failed', name, step);
      if (changed !== undefined && changed > 0) {
        logger.debug({ step: name, changed }, 'maintenance');
        if (name === 'reclaim leases') onRequeue();
      }
    }
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
