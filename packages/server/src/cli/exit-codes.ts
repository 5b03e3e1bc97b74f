/** The exit codes of every `batchd` command, as the README documents them. */
export const EXIT_CODES = {
  /** The command did what it was asked. */
  ok: 0,
  /** The server answered with an error, could not be reached, or the command failed otherwise. */
  failed: 1,
  /** Bad arguments, or an input file that cannot be read or parsed. */
  usage: 2,
  /** The batches ended, but some of their requests did not succeed (errored, canceled or expired). */
  requestsFailed: 3,
  /** Interrupted by SIGINT or SIGTERM. */
  interrupted: 130,
} as const;
