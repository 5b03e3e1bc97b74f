import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { MAIN_JS } from '../test-support/process/server-process.js';

/** `batchd … | head` closes the pipe before the command has written everything it has. */
it('ends quietly with its own exit code when the reader of its output goes away', async () => {
  const child = spawn(process.execPath, [MAIN_JS, 'serve', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(stderr).not.toContain('EPIPE');
  expect(code).toBe(0);
});
