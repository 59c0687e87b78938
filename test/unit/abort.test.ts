import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/core/abort.js';

describe('onAbort', () => {
  it('runs the handler when the signal aborts, once, and not after unlinking', () => {
    const ac = new AbortController();
    let n = 0;
    onAbort(ac.signal, () => n++);
    ac.abort();
    ac.abort();
    expect(n).toBe(1);
    const b = new AbortController();
    let m = 0;
    onAbort(b.signal, () => m++)();
    b.abort();
    expect(m).toBe(0);
  });

  it('runs the handler at once for a signal that is already aborted (a listener never would)', () => {
    const ac = new AbortController();
    ac.abort();
    let n = 0;
    onAbort(ac.signal, () => n++);
    expect(n).toBe(1);
  });

  it('does nothing without a signal', () => {
    let n = 0;
    onAbort(undefined, () => n++)();
    expect(n).toBe(0);
  });
});
