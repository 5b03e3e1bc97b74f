import { createHash } from 'node:crypto';

/** Points each replica places on the ring: enough that four replicas split keys within a few percent. */
const DEFAULT_VIRTUAL_NODES = 160;

/** Keys whose preference is remembered: a batch has a few prefix groups at a time, each asked about per call. */
const REMEMBERED_KEYS = 4096;

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
  readonly #remembered = new Map<string, readonly number[]>();

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

  /** The replicas (indexes into the labels) in the order `key` prefers them, each once; remembered for the latest keys. */
  preference(key: string): readonly number[] {
    const known = this.#remembered.get(key);
    if (known !== undefined) return known;
    const order: number[] = [];
    const points = this.#points;
    const start = points.length === 0 ? 0 : this.#firstAtOrAfter(point(key));
    const seen = new Uint8Array(this.size);
    for (let i = 0; i < points.length && order.length < this.size; i++) {
      const owner = this.#owners[(start + i) % points.length]!;
      if (seen[owner] === 1) continue;
      seen[owner] = 1;
      order.push(owner);
    }
    if (this.#remembered.size >= REMEMBERED_KEYS) this.#remembered.clear();
    this.#remembered.set(key, order);
    return order;
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

/** Which replicas a call may use, and how many calls each may hold: ⌈(1+ε)·average⌉, the average counting one more call. */
function bounds(loads: readonly number[], up: readonly boolean[], epsilon: number): { usable: (index: number) => boolean; capacity: number } {
  const anyUp = up.some(Boolean);
  const usable = (index: number) => !anyUp || up[index] === true;
  let total = 1;
  let count = 0;
  for (let index = 0; index < loads.length; index++) {
    if (!usable(index)) continue;
    total += loads[index]!;
    count++;
  }
  return { usable, capacity: Math.ceil(((1 + epsilon) * total) / count) };
}

/**
 * Consistent hashing with bounded loads: the first replica in `key`'s preference that is up and
 * holds fewer than ⌈(1+ε)·average⌉ calls, the average counting the new call, over the replicas up.
 * Without a key, the least loaded replica up, ties taken in turn from `turn`. When every replica
 * is down, all count as up: a call is never refused for want of a replica.
 */
export function chooseReplica(ring: HashRing, key: string | undefined, loads: readonly number[], up: readonly boolean[], epsilon: number, turn = 0): number {
  const { usable, capacity } = bounds(loads, up, epsilon);
  if (key === undefined) {
    let best = -1;
    for (let step = 0; step < loads.length; step++) {
      const index = (turn + step) % loads.length;
      if (usable(index) && (best === -1 || loads[index]! < loads[best]!)) best = index;
    }
    return best;
  }
  return ring.preference(key).find((index) => usable(index) && loads[index]! < capacity) ?? -1;
}

/** Whether a call with `key` would go to the first replica up in its preference, rather than spill past it for load. */
export function ownerHasRoom(ring: HashRing, key: string, loads: readonly number[], up: readonly boolean[], epsilon: number): boolean {
  const { usable, capacity } = bounds(loads, up, epsilon);
  const owner = ring.preference(key).find(usable);
  return owner !== undefined && loads[owner]! < capacity;
}
