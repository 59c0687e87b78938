// The bridge between a commander action and the engine. Commands call these; they resolve the
// configuration (flag > HIVECTL_* env > ./hivectl.yaml > ~/.config/hivectl/config.yaml > defaults),
// the target, the mode and the IO host once, then run a runbook through the runner.
//
// CONTRACT (implemented by the engine; other modules code against these signatures):
import type { Command } from 'commander';
import type { Adapters } from '../adapters/index.js';
import type { HivectlConfig } from './config.js';
import type { IoHost } from './io.js';
import type { Mode, Runbook, Target } from './step.js';

export interface CommandEnv {
  config: HivectlConfig;
  target: Target;
  mode: Mode;
  io: IoHost;
  adapters: Adapters;
  /** Journal directory in use. */
  journalDir: string;
}

export interface RunOutcome {
  runId: string;
  status: 'succeeded' | 'planned' | 'failed' | 'rolled-back' | 'partial' | 'aborted' | 'refused' | 'rollback-failed';
  /** Results of every completed step, by step id. */
  results: Record<string, unknown>;
  exitCode: number;
}

/** Resolve config, target, mode, IO and adapters from the command's (and its parents') flags. */
export async function loadCommandEnv(cmd: Command): Promise<CommandEnv> {
  const m = await import('./command-impl.js');
  return m.loadCommandEnv(cmd);
}

/**
 * Build a runbook from the resolved env, run it (plan, confirm, apply, verify, rollback on failure),
 * journal it, print the outcome, set process.exitCode. `summarize` turns the step results into the
 * command's result object (printed on stdout as table/json/yaml).
 */
export async function runRunbookCommand(
  cmd: Command,
  build: (env: CommandEnv) => Runbook | Promise<Runbook>,
  summarize?: (outcome: RunOutcome, env: CommandEnv) => unknown,
): Promise<RunOutcome> {
  const m = await import('./command-impl.js');
  return m.runRunbookCommand(cmd, build, summarize);
}
