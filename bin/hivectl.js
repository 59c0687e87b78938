#!/usr/bin/env node
// hivectl mostly waits on servers, and runs for seconds: V8's top tier (TurboFan) compiling lukewarm
// code on background threads cost ~15% of a DR drill's CPU and paid nothing back (backup throughput
// and scan time were the same without it). Cap the tiers at Maglev (Node 22+; on Node 20, Sparkplug).
// HIVECTL_V8_FLAGS replaces the cap (e.g. "--max-opt=999" to lift it). Node 24 ignores flags set at
// run time, so there it runs with V8's defaults.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString(process.env.HIVECTL_V8_FLAGS || '--max-opt=2');
await import('../dist/cli.js');
