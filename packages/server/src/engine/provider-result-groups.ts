import type { ProviderCompletion } from '../store/provider-batch-store.js';

/** Results written per transaction while a download streams: short writes let the socket drain between them (finding 31). */
export const RESULTS_GROUP = 1000;
/** A group is written sooner once its result texts reach this many characters, so two groups bound what is held. */
export const RESULTS_GROUP_CHARS = 8 * 1024 * 1024;

/**
 * A provider batch's downloaded results, written in groups as they stream: one group is written
 * while the next is read, and the write under way is awaited before the next starts.
 */
export class ProviderResultGroups {
  private group: ProviderCompletion[] = [];
  private chars = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly writeGroup: (completions: ProviderCompletion[]) => Promise<void>) {}

  /** Adds a result; waits only when a full group must wait for the one being written. */
  async add(completion: ProviderCompletion): Promise<void> {
    this.group.push(completion);
    this.chars += completion.result?.length ?? 0;
    if (this.group.length >= RESULTS_GROUP || this.chars >= RESULTS_GROUP_CHARS) await this.write();
  }

  /** Writes what is left and waits for every write; throws the first write that failed. */
  async flush(): Promise<void> {
    await this.write();
    await this.writing;
  }

  private async write(): Promise<void> {
    const completions = this.group;
    this.group = [];
    this.chars = 0;
    await this.writing;
    if (completions.length === 0) return;
    this.writing = this.writeGroup(completions);
    this.writing.catch(() => undefined);
  }
}
