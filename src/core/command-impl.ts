// Placeholder until the engine lands: see command.ts for the contract.
import type { Command } from 'commander';
import type { CommandEnv, RunOutcome } from './command.js';
import type { Runbook } from './step.js';

export async function loadCommandEnv(_cmd: Command): Promise<CommandEnv> {
  throw new Error('engine not implemented yet');
}

export async function runRunbookCommand(
  _cmd: Command,
  _build: (env: CommandEnv) => Runbook | Promise<Runbook>,
  _summarize?: (outcome: RunOutcome, env: CommandEnv) => unknown,
): Promise<RunOutcome> {
  throw new Error('engine not implemented yet');
}
