import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultMaxConnections } from './connection-limits.js';

describe('defaultMaxConnections', () => {
  it('is three quarters of the open-file limit, at least 64, and 4,096 where no limit can be read', () => {
    expect(defaultMaxConnections(20_000)).toBe(15_000);
    expect(defaultMaxConnections(10)).toBe(64);
    expect(defaultMaxConnections(null)).toBe(4_096);
  });

  it.runIf(process.platform === 'linux')('reads the soft limit this process runs under', () => {
    const soft = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
    expect(defaultMaxConnections()).toBe(Math.max(64, Math.floor((soft * 3) / 4)));
  });
});
