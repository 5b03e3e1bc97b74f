import { cpus, freemem, loadavg, release, totalmem, type } from 'node:os';

/** Facts about the machine a run measured, recorded beside its figures. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  freeMemoryBytes: number;
  node: string;
  os: string;
  loadAverage1m: number;
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    node: process.version,
    os: `${type()} ${release()}`,
    loadAverage1m: loadavg()[0] ?? 0,
  };
}
