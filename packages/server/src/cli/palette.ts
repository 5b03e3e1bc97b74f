/** ANSI styling for one output stream; every function returns its text unchanged when colours are off. */
export interface Palette {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** Colours are on when `stream` is a terminal and `NO_COLOR` is unset or empty. */
export function palette(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): Palette {
  const enabled = stream.isTTY === true && !env.NO_COLOR;
  const style = (open: number, close: number) => (text: string) => (enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  return {
    enabled,
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
  };
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The number of characters `text` occupies on screen, ANSI codes excluded. */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}
