// Resolved configuration as steps see it. Loading and precedence live in config-load.ts.
export type { HivectlConfigParsed as HivectlConfig } from './config-schema.js';
