// Ctrl-C and SIGTERM: the first one aborts the run's AbortSignal (execa children, SDK waiters and
// watches get it) so the runner can roll back and flush the journal; a second one exits at once.
import { AbortedError, ExitCode } from './errors.js';

export interface SignalGuard {
  /** The signal that aborted the run, if any. */
  readonly received: 'SIGINT' | 'SIGTERM' | undefined;
  dispose(): void;
}

export function installSignalHandlers(
  controller: AbortController,
  opts: {
    /** Called synchronously before a hard exit (second signal): last journal record, say what stands. */
    onHardExit?: (sig: 'SIGINT' | 'SIGTERM') => void;
    onFirst?: (sig: 'SIGINT' | 'SIGTERM') => void;
  } = {},
): SignalGuard {
  let received: 'SIGINT' | 'SIGTERM' | undefined;
  const handler = (sig: 'SIGINT' | 'SIGTERM') => {
    if (received) {
      try {
        opts.onHardExit?.(sig);
      } finally {
        process.exit(sig === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint);
      }
      return;
    }
    received = sig;
    opts.onFirst?.(sig);
    controller.abort(new AbortedError(sig));
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
