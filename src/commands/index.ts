// Every command registers itself here. A command module's top level imports only commander and
// light core modules; everything heavy is imported inside its action.
import type { Command } from 'commander';
import { register as backup } from './backup.js';
import { register as bootstrap } from './bootstrap.js';
import { register as chaos } from './chaos.js';
import { register as completion } from './completion.js';
import { register as config } from './config.js';
import { register as doctor } from './doctor.js';
import { register as drill } from './drill.js';
import { register as failover } from './failover.js';
import { register as iamPolicy } from './iam-policy.js';
import { register as restore } from './restore.js';
import { register as resume } from './resume.js';
import { register as runbook } from './runbook.js';
import { register as runs } from './runs.js';
import { register as sandbox } from './sandbox.js';
import { register as scale } from './scale.js';
import { register as scan } from './scan.js';
import { register as version } from './version.js';

export function registerAll(program: Command): void {
  version(program);
  config(program);
  doctor(program);
  completion(program);
  sandbox(program);
  runs(program);
  resume(program);
  runbook(program);
  backup(program);
  restore(program);
  bootstrap(program);
  scale(program);
  scan(program);
  iamPolicy(program);
  failover(program);
  chaos(program);
  drill(program);
}
