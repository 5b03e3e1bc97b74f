import { visibleLength } from './palette.js';

export interface Column {
  title: string;
  /** Numbers read best aligned right. Default `left`. */
  align?: 'left' | 'right';
}

/** Lays out a header and rows in columns two spaces apart, each padded to its widest cell. */
export function formatTable(columns: Column[], rows: string[][], heading: (text: string) => string = (text) => text): string {
  const widths = columns.map((column, index) =>
    Math.max(visibleLength(column.title), ...rows.map((row) => visibleLength(row[index] ?? ''))),
  );
  const line = (cells: string[], style: (text: string) => string = (text) => text) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const padding = ' '.repeat((widths[index] ?? 0) - visibleLength(cell));
        return column.align === 'right' ? padding + style(cell) : style(cell) + padding;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.title), heading), ...rows.map((row) => line(row))].join('\n') + '\n';
}
