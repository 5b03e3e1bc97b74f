import { describe, expect, it } from 'vitest';
import { pickFairly, type ClaimCandidate } from './fair-claim.js';

/** `count` due deliveries of one endpoint, numbered from `seq`, the oldest due at `due`. */
function due(workspace: string, endpoint: string, seq: number, count: number, due = seq): ClaimCandidate[] {
  return Array.from({ length: count }, (_, i) => ({ seq: seq + i, endpoint_id: endpoint, workspace_id: workspace, next_attempt_at: due + i }));
}

describe('fair claims', () => {
  it('takes a newer event of a quiet workspace before the older backlog of a busy one', () => {
    // Workspace a: 20 endpoints with two old deliveries each; workspace b: one newer delivery.
    const a = Array.from({ length: 20 }, (_, i) => due('a', `a${i}`, 100 + 2 * i, 2, i));
    const candidates = [...a.flat(), ...due('b', 'b0', 1, 1, 1_000)];
    const picked = pickFairly(candidates, [], { total: 16, perEndpoint: 2, perWorkspace: 4 });
    // a's four are its four oldest endpoints' oldest deliveries (round-robin over endpoints), b's one goes second.
    expect(picked).toEqual([100, 1, 102, 104, 106]);
  });

  it('counts deliveries already leased against the endpoint and the workspace', () => {
    const candidates = [...due('a', 'a0', 1, 2), ...due('a', 'a1', 10, 2), ...due('b', 'b0', 20, 3)];
    const leased = [
      { endpoint_id: 'a0', workspace_id: 'a', leased: 2 },
      { endpoint_id: 'a2', workspace_id: 'a', leased: 1 },
    ];
    // a0 is full; a holds 3 of its 4: one of a1's goes, after b's (b has none in flight).
    expect(pickFairly(candidates, leased, { total: 16, perEndpoint: 2, perWorkspace: 4 })).toEqual([20, 21, 10]);
  });

  it('stops at the total, round-robin across workspaces', () => {
    const candidates = [...due('a', 'a0', 1, 2), ...due('b', 'b0', 10, 2), ...due('c', 'c0', 20, 2)];
    expect(pickFairly(candidates, [], { total: 4, perEndpoint: 2, perWorkspace: 4 })).toEqual([1, 10, 20, 2]);
  });
});
