// Linking work to an AbortSignal. An 'abort' listener never fires for a signal that is already aborted
// (Ctrl-C just before a wait began), so every link runs the handler at once in that case.

/** Run `fn` when `signal` aborts, or now if it already has; returns the unlink to call when done. */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  signal.addEventListener('abort', fn, { once: true });
  if (signal.aborted) fn();
  return () => signal.removeEventListener('abort', fn);
}
