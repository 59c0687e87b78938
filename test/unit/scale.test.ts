import { describe, expect, it } from 'vitest';
import { parseResp } from '../../src/adapters/redis.js';
import {
  deletionCost,
  desiredAgents,
  parseHistory,
  type Recommendation,
  stabilize,
} from '../../src/steps/k8s/autoscale.js';

const policy = { min: 1, max: 50, perAgent: 5 };

describe('desiredAgents = clamp(ceil(depth / perAgent), min, max)', () => {
  it('maps queue depths 0 / 12 / 400 to 1 / 3 / 50 agents at 5 per agent', () => {
    expect(desiredAgents(0, policy)).toBe(1);
    expect(desiredAgents(12, policy)).toBe(3);
    expect(desiredAgents(400, policy)).toBe(50);
    expect(desiredAgents(5, policy)).toBe(1);
    expect(desiredAgents(6, policy)).toBe(2);
    expect(desiredAgents(3, { min: 0, max: 10, perAgent: 5 })).toBe(1);
    expect(desiredAgents(0, { min: 0, max: 10, perAgent: 5 })).toBe(0);
  });
});

describe('stabilize', () => {
  const W = 300_000;
  it('scales up at once', () => {
    expect(stabilize([], 0, 10, 3, W).replicas).toBe(10);
  });

  it('does not flap when the queue drains and refills inside the window', () => {
    // Depth oscillates between 400 and 0 every 30 s for 5 minutes: replicas never drop below 50.
    let history: Recommendation[] = [];
    let current = 1;
    const seen: number[] = [];
    for (let t = 0; t < W; t += 30_000) {
      const depth = (t / 30_000) % 2 === 0 ? 400 : 0;
      const s = stabilize(history, t, desiredAgents(depth, policy), current, W);
      history = s.history;
      current = s.replicas;
      seen.push(current);
    }
    expect(seen[0]).toBe(50);
    expect(new Set(seen.slice(1))).toEqual(new Set([50]));
  });

  it('scales down to the highest recommendation once the window has passed', () => {
    let s = stabilize([], 0, 50, 1, W);
    s = stabilize(s.history, 60_000, 3, 50, W);
    expect(s.replicas).toBe(50);
    s = stabilize(s.history, W + 1, 3, 50, W);
    expect(s.replicas).toBe(3);
    expect(s.history.every(([t]) => W + 1 - t < W)).toBe(true);
  });

  it('scales down in steps as older high recommendations leave the window', () => {
    let s = stabilize([], 0, 20, 20, W);
    s = stabilize(s.history, 100_000, 10, 20, W);
    expect(s.replicas).toBe(20);
    s = stabilize(s.history, 310_000, 2, 20, W);
    expect(s.replicas).toBe(10);
    s = stabilize(s.history, 410_000, 2, 10, W);
    expect(s.replicas).toBe(2);
  });

  it('reads a persisted history defensively', () => {
    expect(parseHistory('[[1,2],[3,4]]')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseHistory('garbage')).toEqual([]);
    expect(parseHistory(undefined)).toEqual([]);
  });
});

describe('idle agents first', () => {
  it('gives idle agents the lowest deletion cost and busy ones the highest', () => {
    const idle = deletionCost({ 'agent-hive.dev/busy': 'false' });
    const unknown = deletionCost({});
    const busy = deletionCost({ 'agent-hive.dev/busy': 'true' });
    expect(idle).toBeLessThan(unknown);
    expect(unknown).toBeLessThan(busy);
  });
});

describe('RESP parser', () => {
  it('parses integers, bulk strings, arrays, nulls and errors, and waits for complete frames', () => {
    expect(parseResp(Buffer.from(':42\r\n'))?.value).toBe(42);
    expect(parseResp(Buffer.from('$5\r\nhello\r\n'))?.value).toBe('hello');
    expect(parseResp(Buffer.from('$-1\r\n'))?.value).toBeNull();
    expect(parseResp(Buffer.from('*2\r\n$1\r\na\r\n$1\r\nb\r\n'))?.value).toEqual(['a', 'b']);
    expect(parseResp(Buffer.from('-ERR bad\r\n'))?.value).toBeInstanceOf(Error);
    expect(parseResp(Buffer.from('$5\r\nhel'))).toBeUndefined();
  });
});
