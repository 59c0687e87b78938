// Reads a hyperfine --export-json file whose first command is the baseline and prints each
// command's median wall time and its ratio to the baseline's median, with PASS/MISS against a target
// ratio. CPU time (user + system, mean) and its ratio are printed beside it: on a busy machine wall
// times swing with the load, CPU time much less, so it tells noise from a real regression.
// Always exits 0 (a benchmark reports; the tests decide).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const [file, targetArg = '1.25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/ratios.mjs HYPERFINE.json [TARGET_RATIO]');
  process.exit(2);
}
const target = Number(targetArg);
const { results } = JSON.parse(readFileSync(file, 'utf8'));
const [base, ...rest] = results;
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
const cpu = (r) => r.user + r.system;
const w = Math.max(...results.map((r) => r.command.length));
console.log(
  `${'command'.padEnd(w)}  median      ratio         cpu        cpu ratio   (target: median ratio <= ${target})`,
);
console.log(
  `${base.command.padEnd(w)}  ${ms(base.median).padStart(9)}  1.00        ${ms(cpu(base)).padStart(9)}  1.00`,
);
let misses = 0;
for (const r of rest) {
  const ratio = r.median / base.median;
  const verdict = ratio <= target ? 'PASS' : 'MISS';
  if (verdict === 'MISS') misses++;
  const cr = cpu(r) / cpu(base);
  console.log(
    `${r.command.padEnd(w)}  ${ms(r.median).padStart(9)}  ${ratio.toFixed(2)} ${verdict}   ${ms(cpu(r)).padStart(9)}  ${cr.toFixed(2)}`,
  );
}
console.log(
  `${misses === 0 ? 'startup: every ratio within target' : `startup: ${misses} ratio(s) over target`} (${results[0].times.length} runs each; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
