import type { ClaimLimits } from './webhook-store.js';

/** A due delivery a claim may take: the oldest few of each endpoint, oldest first. */
export interface ClaimCandidate {
  seq: number;
  endpoint_id: string;
  workspace_id: string;
  next_attempt_at: number;
}

/** Deliveries of one endpoint leased now (being sent by some process). */
export interface LeasedCount {
  endpoint_id: string;
  workspace_id: string;
  leased: number;
}

/** Ranks items by `key` within each group: 0 for the first of its group, as `items` are ordered. */
function rankWithin<T>(items: T[], key: (item: T) => string, start: (group: string) => number): Array<{ item: T; rank: number }> {
  const next = new Map<string, number>();
  return items.map((item) => {
    const group = key(item);
    const rank = next.get(group) ?? start(group);
    next.set(group, rank + 1);
    return { item, rank };
  });
}

const byRankThenAge = <T extends { rank: number; item: ClaimCandidate }>(a: T, b: T) =>
  a.rank - b.rank || a.item.next_attempt_at - b.item.next_attempt_at || a.item.seq - b.item.seq;

/**
 * The deliveries a claim takes, in sending order, so that no workspace or endpoint can hold up
 * another: at most `perEndpoint` in flight per endpoint and `perWorkspace` per workspace (counting
 * those already leased), taken round-robin, first across a workspace's endpoints, then across
 * workspaces, each round oldest first. `candidates` must be ordered oldest first within each endpoint.
 */
export function pickFairly(candidates: ClaimCandidate[], leased: LeasedCount[], limits: ClaimLimits): number[] {
  const leasedByEndpoint = new Map<string, number>();
  const leasedByWorkspace = new Map<string, number>();
  for (const row of leased) {
    leasedByEndpoint.set(row.endpoint_id, row.leased);
    leasedByWorkspace.set(row.workspace_id, (leasedByWorkspace.get(row.workspace_id) ?? 0) + row.leased);
  }
  const perEndpoint = rankWithin(candidates, (c) => c.endpoint_id, (id) => leasedByEndpoint.get(id) ?? 0)
    .filter((entry) => entry.rank < limits.perEndpoint)
    .sort(byRankThenAge)
    .map((entry) => entry.item);
  return rankWithin(perEndpoint, (c) => c.workspace_id, (id) => leasedByWorkspace.get(id) ?? 0)
    .filter((entry) => entry.rank < limits.perWorkspace)
    .sort(byRankThenAge)
    .slice(0, limits.total)
    .map((entry) => entry.item.seq);
}
