#!/usr/bin/env node
import { Command } from 'commander';
import { registerBatchesCommand } from './cli/batches-command.js';
import { reportError } from './cli/report-error.js';
import { registerRunCommand } from './cli/run-command.js';
import { registerServeCommand } from './cli/serve-command.js';

const program = new Command('batchd')
  .description('A self-hosted Message Batches service')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');
registerServeCommand(program);
registerRunCommand(program);
registerBatchesCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
