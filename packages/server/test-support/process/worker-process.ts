import { spawn, type ChildProcess } from 'node:child_process';
import { MAIN_JS } from './server-process.js';

/** Workers started and not yet killed. */
const started = new Set<ChildProcess>();

/**
 * Starts the real `batchd worker` with `args`, and `env` over this process's environment;
 * resolves once it says it runs, rejects with its stderr if it exits first.
 */
export function startWorker(args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN_JS, 'worker', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('batchd worker running')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${stderr}`)));
  });
}

/** Sends SIGKILL to every worker still running; call it before dropping their database. */
export function killWorkers(): void {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  started.clear();
}
