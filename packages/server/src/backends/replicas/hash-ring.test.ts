import { describe, expect, it } from 'vitest';
import { chooseReplica, HashRing, ownerHasRoom } from './hash-ring.js';

const URLS = ['http://10.0.0.1:8000/v1', 'http://10.0.0.2:8000/v1', 'http://10.0.0.3:8000/v1', 'http://10.0.0.4:8000/v1'];
const KEYS = Array.from({ length: 20_000 }, (_, i) => `prefix-${i}`);
const ALL_UP = [true, true, true, true];

const owner = (ring: HashRing, key: string) => ring.preference(key)[0]!;

describe('HashRing', () => {
  it('splits keys evenly: each of four replicas owns between 20 % and 30 % of them', () => {
    const ring = new HashRing(URLS);
    const owned = [0, 0, 0, 0];
    for (const key of KEYS) owned[owner(ring, key)]!++;
    for (const count of owned) expect(count / KEYS.length).toBeGreaterThan(0.2);
    for (const count of owned) expect(count / KEYS.length).toBeLessThan(0.3);
  });

  it('lists every replica once in a key’s preference', () => {
    const ring = new HashRing(URLS);
    for (const key of KEYS.slice(0, 100)) expect([...ring.preference(key)].sort()).toEqual([0, 1, 2, 3]);
  });

  it('moves only the removed replica’s keys when one is removed, and only keys to the new one when one is added', () => {
    const four = new HashRing(URLS);
    const three = new HashRing(URLS.slice(0, 3));
    let moved = 0;
    for (const key of KEYS) {
      const before = owner(four, key);
      const after = owner(three, key);
      if (before !== 3) expect(after).toBe(before);
      else moved++;
    }
    expect(moved / KEYS.length).toBeGreaterThan(0.2);
    const five = new HashRing([...URLS, 'http://10.0.0.5:8000/v1']);
    let toNew = 0;
    for (const key of KEYS) {
      const after = owner(five, key);
      if (after === 4) toNew++;
      else expect(after).toBe(owner(four, key));
    }
    expect(toNew / KEYS.length).toBeGreaterThan(0.15);
    expect(toNew / KEYS.length).toBeLessThan(0.25);
  });
});

describe('chooseReplica', () => {
  it('sends a key to its owner while the owner is below ⌈1.25 × average⌉ (and says so), then to the next replica on the ring', () => {
    const ring = new HashRing(URLS);
    const [first, second] = ring.preference('hot');
    const loads = [0, 0, 0, 0];
    for (let call = 1; call <= 100; call++) {
      const roomy = ownerHasRoom(ring, 'hot', loads, ALL_UP, 0.25);
      const chosen = chooseReplica(ring, 'hot', loads, ALL_UP, 0.25);
      expect(roomy).toBe(chosen === first);
      loads[chosen]!++;
      const cap = Math.ceil((1.25 * call) / 4);
      for (const load of loads) expect(load).toBeLessThanOrEqual(cap);
    }
    expect(loads[first!]).toBe(Math.ceil((1.25 * 100) / 4));
    expect(loads[second!]).toBeGreaterThan(0);
    expect(loads.reduce((a, b) => a + b)).toBe(100);
  });

  it('keeps every replica within the bound however the keys fall', () => {
    const ring = new HashRing(URLS);
    const loads = [0, 0, 0, 0];
    for (const [call, key] of KEYS.slice(0, 1000).entries()) {
      loads[chooseReplica(ring, key, loads, ALL_UP, 0.25)]!++;
      expect(Math.max(...loads)).toBeLessThanOrEqual(Math.ceil((1.25 * (call + 1)) / 4));
    }
  });

  it('skips a replica that is down, its keys going to their next replica, and gives them back when it is up', () => {
    const ring = new HashRing(URLS);
    const key = KEYS.find((k) => owner(ring, k) === 2)!;
    const next = ring.preference(key)[1];
    const loads = [0, 0, 0, 0];
    expect(chooseReplica(ring, key, loads, [true, true, false, true], 0.25)).toBe(next);
    expect(chooseReplica(ring, key, loads, ALL_UP, 0.25)).toBe(2);
    expect(chooseReplica(ring, key, loads, [false, false, false, false], 0.25)).toBe(2);
  });

  it('sends a call without a key to the least loaded replica up, taking equals in turn', () => {
    const ring = new HashRing(URLS);
    expect(chooseReplica(ring, undefined, [3, 1, 2, 1], ALL_UP, 0.25)).toBe(1);
    expect(chooseReplica(ring, undefined, [3, 1, 2, 1], ALL_UP, 0.25, 2)).toBe(3);
    expect(chooseReplica(ring, undefined, [3, 1, 2, 1], [true, false, true, false], 0.25)).toBe(2);
    expect([0, 1, 2, 3].map((turn) => chooseReplica(ring, undefined, [0, 0, 0, 0], ALL_UP, 0.25, turn))).toEqual([0, 1, 2, 3]);
  });
});
