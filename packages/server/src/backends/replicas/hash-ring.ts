import { createHash } from 'node:crypto';

/** Points each replica places on the ring: enough that four replicas split keys within a few percent. */
const DEFAULT_VIRTUAL_NODES = 160;

function point(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

/**
 * A consistent-hashing ring: each replica, named by a label (its URL), owns the arcs ending at
 * its virtual nodes. A key's replicas, in order of preference, are those met walking clockwise
 * from the key's point. Points depend only on the labels, so adding or removing a replica moves
 * only the keys it takes or held.
 */
export class HashRing {
  readonly size: number;
  readonly #points: Uint32Array;
  readonly #owners: Uint16Array;

  constructor(labels: readonly string[], virtualNodes = DEFAULT_VIRTUAL_NODES) {
    const nodes: Array<{ point: number; owner: number }> = [];
    labels.forEach((label, owner) => {
      for (let v = 0; v < virtualNodes; v++) nodes.push({ point: point(`${label}#${v}`), owner });
    });
    nodes.sort((a, b) => a.point - b.point || a.owner - b.owner);
    this.size = labels.length;
    this.#points = Uint32Array.from(nodes, (node) => node.point);
    this.#owners = Uint16Array.from(nodes, (node) => node.owner);
  }

  /** The replicas (indexes into the labels) in the order `key` prefers them, each once. */
  *preference(key: string): Generator<number> {
    const points = this.#points;
    if (points.length === 0) return;
    const start = this.#firstAtOrAfter(point(key));
    const seen = new Uint8Array(this.size);
    let found = 0;
    for (let i = 0; i < points.length && found < this.size; i++) {
      const owner = this.#owners[(start + i) % points.length]!;
      if (seen[owner] === 1) continue;
      seen[owner] = 1;
      found++;
      yield owner;
    }
  }

  #firstAtOrAfter(target: number): number {
    let low = 0;
    let high = this.#points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#points[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low === this.#points.length ? 0 : low;
  }
}

/**
 * Consistent hashing with bounded loads: the first replica in `key`'s preference that is up and
 * holds fewer than ⌈(1+ε)·average⌉ calls, the average counting the new call, over the replicas up.
 * Without a key, the least loaded replica up, ties taken in turn from `turn`. When every replica
 * is down, all count as up: a call is never refused for want of a replica.
 */
export function chooseReplica(ring: HashRing, key: string | undefined, loads: readonly number[], up: readonly boolean[], epsilon: number, turn = 0): number {
  const anyUp = up.some(Boolean);
  const usable = (index: number) => !anyUp || up[index] === true;
  if (key === undefined) {
    let best = -1;
    for (let step = 0; step < loads.length; step++) {
      const index = (turn + step) % loads.length;
      if (usable(index) && (best === -1 || loads[index]! < loads[best]!)) best = index;
    }
    return best;
  }
  let total = 1;
  let count = 0;
  for (let index = 0; index < loads.length; index++) {
    if (!usable(index)) continue;
    total += loads[index]!;
    count++;
  }
  const capacity = Math.ceil(((1 + epsilon) * total) / count);
  for (const index of ring.preference(key)) {
    if (usable(index) && loads[index]! < capacity) return index;
  }
  return -1;
}
