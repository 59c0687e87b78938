// Every check, in one list. IDs are stable: a retired check keeps its ID reserved.
import { awsChecks } from './checks/aws.js';
import { imageChecks } from './checks/images.js';
import { networkChecks } from './checks/network.js';
import { rbacChecks } from './checks/rbac.js';
import { workloadChecks } from './checks/workload.js';
import type { Check } from './types.js';

export const CHECKS: readonly Check[] = [
  ...workloadChecks,
  ...networkChecks,
  ...rbacChecks,
  ...awsChecks,
  ...imageChecks,
];

export function checkById(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}
