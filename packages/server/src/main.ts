#!/usr/bin/env node
import { Command } from 'commander';
import { registerServeCommand } from './cli/serve-command.js';

const program = new Command('batchd').description('A self-hosted Message Batches service');
registerServeCommand(program);

await program.parseAsync(process.argv);
