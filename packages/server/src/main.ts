#!/usr/bin/env node
import { Command } from 'commander';
import { registerBatchesCommand } from './cli/client/batches-command.js';
import { registerKeysCommand } from './cli/admin/keys-command.js';
import { reportError } from './cli/report-error.js';
import { registerRunCommand } from './cli/admin/run-command.js';
import { registerServeCommand } from './cli/admin/serve-command.js';
import { registerWebhooksCommand } from './cli/client/webhooks-command.js';

const program = new Command('batchd')
  .description('A self-hosted Message Batches service')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    '\nExit codes: 0 done; 1 the server answered with an error or could not be reached; 2 bad arguments or input;\n' +
      '3 some requests errored, were canceled or expired (run, batches create --wait, batches watch); 130 interrupted.',
  );
registerServeCommand(program);
registerRunCommand(program);
registerBatchesCommand(program);
registerKeysCommand(program);
registerWebhooksCommand(program);

// A reader that stops early (`batchd batches list | head`) ends the command quietly, as other tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
