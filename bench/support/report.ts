/**
 * What a scenario reports: figures, each beside the baseline measured in the same run and the
 * target it is judged by, plus details (sizes, counts, error names) that explain the figures.
 */

export type Comparison = '<=' | '>=';

export interface Target {
  /** `ratio`: the figure divided by its baseline; `value`: the figure itself. */
  on: 'ratio' | 'value';
  compare: Comparison;
  limit: number;
}

export interface Figure {
  /** Short name, unique within its scenario, e.g. `time` or `retrieve p99`. */
  name: string;
  unit: string;
  value: number;
  baseline?: { name: string; value: number };
  /** `value / baseline.value`, present with a baseline. */
  ratio?: number;
  target?: Target;
  /** Whether the target is met, present with a target. */
  pass?: boolean;
}

export type Detail = number | string | boolean | null;

export interface ScenarioResult {
  scenario: string;
  /** The sizes and settings the scenario ran with. */
  params: Record<string, Detail>;
  figures: Figure[];
  details: Record<string, Detail>;
  seconds: number;
  /** The machine's 1-minute load average when the scenario started and ended: others' work competes. */
  loadAverage: { start: number; end: number };
}

/** Builds a figure, computing its ratio and whether it meets its target. */
export function figure(
  name: string,
  unit: string,
  value: number,
  options: { baseline?: { name: string; value: number }; target?: Target } = {},
): Figure {
  const result: Figure = { name, unit, value };
  if (options.baseline) {
    result.baseline = options.baseline;
    result.ratio = value / options.baseline.value;
  }
  if (options.target) {
    result.target = options.target;
    const judged = options.target.on === 'ratio' ? result.ratio : value;
    result.pass = judged !== undefined && Number.isFinite(judged) && meets(judged, options.target);
  }
  return result;
}

function meets(judged: number, target: Target): boolean {
  return target.compare === '<=' ? judged <= target.limit : judged >= target.limit;
}

/** Every number a result holds, by path, for checks that the output is complete. */
export function numbersOf(result: ScenarioResult): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const f of result.figures) {
    out.push([`${result.scenario}.${f.name}.value`, f.value]);
    if (f.baseline) out.push([`${result.scenario}.${f.name}.baseline`, f.baseline.value], [`${result.scenario}.${f.name}.ratio`, f.ratio]);
  }
  return out;
}
