import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIOS } from './scenarios/index.js';
import type { Params, Scenario } from './scenarios/scenario.js';
import { killAllStarted } from './support/batchd-process.js';
import { machineFacts } from './support/machine.js';
import { formatTopSelfTime } from './support/profile-top.js';
import { REPO_ROOT } from './support/repo-paths.js';
import type { ScenarioResult } from './support/report.js';
import { formatTable } from './support/table.js';

const USAGE = `npm run bench -- [scenario ...] [options]

Runs the benchmark scenarios (all when none is named), prints every figure beside its baseline
and target, and writes the results as JSON.

Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.summary}`).join('\n')}

Options:
  --scale full|tiny     full sizes (default) or the tiny sizes of the CI smoke run
  --set NAME.KEY=VALUE  override one scenario parameter, e.g. --set overhead.requests=20000
  --results FILE        where to write the JSON (default bench/results/latest.json)
  --cpu-prof DIR        run every batchd process under node --cpu-prof, profiles into DIR/<scenario>
  --help                this text`;

interface Failure {
  scenario: string;
  error: string;
}

function parseOverrides(values: string[]): Map<string, Params> {
  const overrides = new Map<string, Params>();
  for (const value of values) {
    const match = /^([\w-]+)\.(\w+)=([\d.e+-]+)$/.exec(value);
    if (!match) throw new Error(`--set ${value}: expected NAME.KEY=NUMBER`);
    const params = overrides.get(match[1]!) ?? {};
    params[match[2]!] = Number(match[3]);
    overrides.set(match[1]!, params);
  }
  return overrides;
}

function paramsFor(scenario: Scenario, scale: 'full' | 'tiny', overrides: Map<string, Params>): Params {
  const params = { ...scenario.sizes[scale] };
  for (const [key, value] of Object.entries(overrides.get(scenario.name) ?? {})) {
    if (!(key in params)) throw new Error(`${scenario.name} has no parameter ${key} (it has ${Object.keys(params).join(', ')})`);
    params[key] = value;
  }
  return params;
}

function printProfiles(dir: string): void {
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    console.log(`\n${formatTopSelfTime(join(dir, file))}`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      scale: { type: 'string', default: 'full' },
      set: { type: 'string', multiple: true, default: [] },
      results: { type: 'string', default: join(REPO_ROOT, 'bench/results/latest.json') },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const scale = values.scale;
  if (scale !== 'full' && scale !== 'tiny') throw new Error(`--scale ${scale}: expected full or tiny`);
  const unknown = positionals.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const chosen = positionals.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => positionals.includes(s.name));
  const overrides = parseOverrides(values.set);
  const profileRoot = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);

  const startedAt = new Date();
  const runStart = performance.now();
  const machine = machineFacts();
  const workRoot = mkdtempSync(join(tmpdir(), 'batchd-bench-'));
  const results: ScenarioResult[] = [];
  const failures: Failure[] = [];
  console.log(`batchd bench (${scale}) on ${machine.cpus} × ${machine.cpuModel}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}`);
  try {
    for (const scenario of chosen) {
      const params = paramsFor(scenario, scale, overrides);
      const workDir = join(workRoot, scenario.name);
      mkdirSync(workDir, { recursive: true });
      const cpuProfileDir = profileRoot === undefined ? undefined : join(profileRoot, scenario.name);
      const log = (message: string) => console.log(`  [${scenario.name}] ${message}`);
      console.log(`\n${scenario.name}: ${JSON.stringify(params)}`);
      const start = performance.now();
      const loadAtStart = loadavg()[0] ?? 0;
      try {
        const output = await scenario.run(params, { workDir, cpuProfileDir, log });
        const seconds = (performance.now() - start) / 1000;
        const loadAverage = { start: loadAtStart, end: loadavg()[0] ?? 0 };
        results.push({ scenario: scenario.name, params, ...output, seconds, loadAverage });
        log(`done in ${seconds.toFixed(1)} s (load ${loadAverage.start.toFixed(1)} → ${loadAverage.end.toFixed(1)}); ${JSON.stringify(output.details)}`);
      } catch (error) {
        await killAllStarted();
        failures.push({ scenario: scenario.name, error: (error as Error).stack ?? String(error) });
        log(`FAILED: ${(error as Error).message}`);
      }
      rmSync(workDir, { recursive: true, force: true });
      if (cpuProfileDir !== undefined) printProfiles(cpuProfileDir);
    }
  } finally {
    rmSync(workRoot, { recursive: true, force: true });
  }

  const seconds = (performance.now() - runStart) / 1000;
  console.log(`\n${formatTable(results)}\n\n${chosen.length} scenarios in ${seconds.toFixed(0)} s`);
  for (const failure of failures) console.log(`\nFAILED ${failure.scenario}:\n${failure.error}`);
  mkdirSync(dirname(values.results), { recursive: true });
  const report = { startedAt: startedAt.toISOString(), seconds, scale, overrides: Object.fromEntries(overrides), machine, scenarios: results, failures };
  writeFileSync(values.results, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results written to ${values.results}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(2);
  },
);
