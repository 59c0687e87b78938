// Every command registers itself here. A command module's top level imports only commander and
// light core modules; everything heavy is imported inside its action.
import type { Command } from 'commander';
import { register as version } from './version.js';

export function registerAll(program: Command): void {
  version(program);
}
