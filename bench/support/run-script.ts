import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { BareLoopOptions, BareLoopReport } from './bare-loop.js';
import { BENCH_DIST, REPO_ROOT } from './repo-paths.js';
import type { FollowClientsOptions, FollowClientsReport } from './follow-clients.js';
import type { LoadClientsOptions, LoadClientsReport } from './load-clients.js';
import type { SdkScriptOptions, SdkScriptReport } from './sdk-script.js';

/**
 * Runs a compiled script of this suite in its own process, so it does not share an event loop
 * with what it measures. The script takes its options as one JSON argument and prints its report
 * as the last line of stdout. Killed after `timeoutMs`.
 */
function runScript<Options, Report>(script: string, options: Options, timeoutMs: number): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BENCH_DIST, script), JSON.stringify(options)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
        resolve(JSON.parse(line) as Report);
      } catch {
        reject(new Error(`${script} ended (code ${code}, signal ${signal}) without a report\n${stderr}`));
      }
    });
  });
}

/** The plain-SDK baseline, run as a user would run it. */
export function runSdkScript(options: SdkScriptOptions, timeoutMs: number): Promise<SdkScriptReport> {
  return runScript('support/sdk-script.js', options, timeoutMs);
}

/** A bare HTTP loop told the provider's capacity: the ceiling any client can reach. */
export function runBareLoop(options: BareLoopOptions, timeoutMs: number): Promise<BareLoopReport> {
  return runScript('support/bare-loop.js', options, timeoutMs);
}

/** Many API clients creating, polling and listing, as background load. */
export function runLoadClients(options: LoadClientsOptions, timeoutMs: number): Promise<LoadClientsReport> {
  return runScript('support/load-clients.js', options, timeoutMs);
}

/** Clients following one running batch's results to its end. */
export function runFollowClients(options: FollowClientsOptions, timeoutMs: number): Promise<FollowClientsReport> {
  return runScript('support/follow-clients.js', options, timeoutMs);
}
