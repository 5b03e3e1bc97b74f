import type { Figure, ScenarioResult } from './report.js';

/** The results as a plain-text table: every figure beside its baseline, ratio and target. */

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function targetText(figure: Figure): string {
  const target = figure.target;
  if (!target) return '';
  return `${target.on === 'ratio' ? 'ratio' : 'value'} ${target.compare} ${target.limit}`;
}

function row(scenario: string, figure: Figure): string[] {
  return [
    scenario,
    figure.name,
    `${formatNumber(figure.value)} ${figure.unit}`,
    figure.baseline ? `${formatNumber(figure.baseline.value)} (${figure.baseline.name})` : '',
    figure.ratio === undefined ? '' : `${figure.ratio.toFixed(2)}×`,
    targetText(figure),
    figure.pass === undefined ? '' : figure.pass ? 'pass' : 'MISS',
  ];
}

export function formatTable(results: readonly ScenarioResult[]): string {
  const header = ['scenario', 'figure', 'value', 'baseline', 'ratio', 'target', 'result'];
  const rows = results.flatMap((result) => result.figures.map((figure) => row(result.scenario, figure)));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
