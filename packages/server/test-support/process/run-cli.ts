import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { MAIN_JS } from './server-process.js';

/** Subprocesses for the CLI and example tests, above all the built `batchd` binary (`packages/server/dist/main.js`). */

/** Variables that would point a command at some other server, key or colour setting. */
const SCRUBBED = ['BATCHD_BASE_URL', 'BATCHD_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'NO_COLOR', 'FORCE_COLOR'];
const KILL_AFTER_MS = 120_000;

export interface CliOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Added to the environment (after the scrubbed variables are removed). */
  env?: Record<string, string>;
  cwd?: string;
  /** Interrupts the command, as Ctrl-C would, once its output (stdout and stderr) matches. */
  interruptOn?: RegExp;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SCRUBBED) delete env[name];
  return { ...env, ...extra };
}

/** Runs any program with the scrubbed environment, collecting its output. */
export function runProcess(
  command: string,
  args: string[],
  options: CliOptions = {},
  interrupt: (child: ChildProcessWithoutNullStreams) => void = (child) => child.kill('SIGINT'),
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const watch = () => {
      if (interrupted || !options.interruptOn?.test(stdout + stderr)) return;
      interrupted = true;
      interrupt(child);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      watch();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      watch();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined || !options.interruptOn) child.stdin.end(options.input ?? '');
  });
}

/** `node dist/main.js ...args`, with pipes for stdin, stdout and stderr (none of them a terminal). */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, [MAIN_JS, ...args], options);
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs the command in a pseudo-terminal with util-linux `script`, so that stdout and stderr are a
 * TTY; `stdout` holds everything the terminal received (stderr included), `\r` and escape codes as sent.
 */
export function runCliInTerminal(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const command = [process.execPath, MAIN_JS, ...args].map(shellQuote).join(' ');
  // Ctrl-C typed into the terminal: the terminal sends SIGINT to the command.
  return runProcess('script', ['-qfec', command, '/dev/null'], options, (child) => child.stdin.write('\x03'));
}
