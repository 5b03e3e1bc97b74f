import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A Python virtual environment with the official SDKs and pytest, made once in an ignored folder
 * and reused while its package list is unchanged. A machine without `python3 -m venv` or pip
 * fails here: the Python suite is never skipped.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const VENV_DIR = join(REPO_ROOT, 'node_modules/.cache/batchd-python');
/** The SDK versions the suite is written against (what `pip install anthropic openai` brings here). */
const PACKAGES = ['anthropic==1.13.*', 'openai==3.22.*', 'pytest', 'pytest-asyncio'];
const READY_MARK = join(VENV_DIR, 'batchd-packages.txt');

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command to its end, with its stdout and stderr together. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', (error) => reject(new Error(`could not run ${command}: ${error.message}`)));
    child.once('close', (code) => resolve({ code, output }));
  });
}

async function check(step: string, result: Promise<RunResult>): Promise<void> {
  const { code, output } = await result;
  if (code !== 0) throw new Error(`${step} failed (exit ${code}):\n${output}`);
}

/** The venv's `python`, after making the venv if it is missing or holds other packages. */
export async function pythonWithSdks(): Promise<string> {
  const python = join(VENV_DIR, 'bin/python');
  const wanted = PACKAGES.join('\n');
  if (existsSync(python) && existsSync(READY_MARK) && (await readFile(READY_MARK, 'utf8')) === wanted) return python;
  await rm(VENV_DIR, { recursive: true, force: true });
  await check('python3 -m venv', run('python3', ['-m', 'venv', VENV_DIR]));
  await check('pip install', run(join(VENV_DIR, 'bin/pip'), ['install', '--disable-pip-version-check', '--retries', '0', '--timeout', '3', ...PACKAGES]));
  await writeFile(READY_MARK, wanted);
  return python;
}
