import { engineCache, promptCache } from './cache-aware.js';
import { controlPlane, controlPlanePg } from './control-plane.js';
import { follow } from './follow.js';
import { ingest, ingestPg } from './ingest.js';
import { million } from './million.js';
import { overhead } from './overhead.js';
import { providerBatch } from './provider-batch.js';
import { replicas } from './replicas.js';
import { results, resultsPg } from './results.js';
import type { Scenario } from './scenario.js';
import { saturation } from './saturation.js';
import { saturationJitter } from './saturation-jitter.js';
import { scaleOut } from './scale-out.js';
import { smallBatch } from './small-batch.js';

/** Every scenario, in the order a full run takes them. */
export const SCENARIOS: readonly Scenario[] = [
  ingest,
  overhead,
  saturation,
  saturationJitter,
  results,
  smallBatch,
  controlPlane,
  follow,
  scaleOut,
  providerBatch,
  promptCache,
  engineCache,
  replicas,
  million,
  ingestPg,
  resultsPg,
  controlPlanePg,
];
