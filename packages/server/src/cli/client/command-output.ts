import { palette, type Palette } from '../palette.js';

/** Where a command's answer goes: text for people, or one JSON document with `--json`. */
export class CommandOutput {
  readonly json: boolean;
  /** Styling for stdout. */
  readonly colors: Palette;
  readonly #stdout: NodeJS.WritableStream;

  constructor(json: boolean, stdout: NodeJS.WriteStream = process.stdout) {
    this.json = json;
    this.colors = palette(stdout);
    this.#stdout = stdout;
  }

  /** Prints `value` as JSON with `--json`, otherwise the text `human` renders. */
  print(value: unknown, human: (colors: Palette) => string): void {
    this.#stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : human(this.colors));
  }
}
