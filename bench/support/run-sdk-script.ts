import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIST, REPO_ROOT } from './repo-paths.js';
import type { SdkScriptOptions, SdkScriptReport } from './sdk-script.js';

const SCRIPT = join(BENCH_DIST, 'support/sdk-script.js');

/**
 * Runs the plain-SDK baseline in its own process (as a user would run it), so it does not share
 * an event loop with the fake provider. Kills it after `timeoutMs`.
 */
export function runSdkScript(options: SdkScriptOptions, timeoutMs: number): Promise<SdkScriptReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, JSON.stringify(options)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as SdkScriptReport);
      } catch {
        reject(new Error(`the SDK script ended (code ${code}, signal ${signal}) without a report\n${stderr}`));
      }
    });
  });
}
