import type { Detail, Figure } from '../support/report.js';

/** One benchmark scenario: sizes for a full and a tiny (smoke) run, and how to run it. */

export type Params = Record<string, number>;

export interface RunContext {
  /** A fresh directory for this scenario's databases and files, removed afterwards. */
  workDir: string;
  /** When set, every batchd process writes a CPU profile into this directory. */
  cpuProfileDir?: string;
  log(message: string): void;
}

export interface ScenarioOutput {
  figures: Figure[];
  details: Record<string, Detail>;
}

export interface Scenario {
  name: string;
  /** One line on what it measures, for `--help` and the README. */
  summary: string;
  sizes: { full: Params; tiny: Params };
  run(params: Params, context: RunContext): Promise<ScenarioOutput>;
}

/** Reads a parameter that every size defines. */
export function param(params: Params, name: string): number {
  const value = params[name];
  if (value === undefined || !Number.isFinite(value)) throw new Error(`missing scenario parameter ${name}`);
  return value;
}
