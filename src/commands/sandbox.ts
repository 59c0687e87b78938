// `hivectl sandbox up|down|status|env`: the local servers that the tests and the first-run demo use.
// It is local infrastructure, not a change to a platform, so it runs without the runbook engine:
// progress lines on stderr, results on stdout.
import type { Command } from 'commander';

const progress = (quiet: boolean) => (m: string) => {
  if (!quiet) process.stderr.write(`sandbox: ${m}\n`);
};

function globals(cmd: Command): { output: string; quiet: boolean } {
  const o = cmd.optsWithGlobals() as { output?: string; quiet?: boolean };
  return { output: o.output ?? 'table', quiet: !!o.quiet };
}

function mib(n: number) {
  return `${Math.round(n / 1024 / 1024)} MiB`;
}

export function register(program: Command): void {
  const sb = program
    .command('sandbox')
    .description('local Kubernetes (KWOK), S3 + RDS (moto), PostgreSQL and Redis on loopback, for tests and demos');

  sb.command('up')
    .description('build what is missing, start every server (or reuse running ones), wait until healthy')
    .option('--nodes <n>', 'fake nodes per cluster (default 3, or what the last up used)')
    .option('--dir <dir>', 'cache dir (default: $HIVECTL_SANDBOX_DIR or ~/.cache/hivectl/sandbox)')
    .action(async (o: { nodes?: string; dir?: string }, cmd: Command) => {
      const { UsageError } = await import('../core/errors.js');
      const g = globals(cmd);
      const nodes = o.nodes === undefined ? undefined : Number(o.nodes);
      if (nodes !== undefined && !Number.isInteger(nodes)) throw new UsageError(`--nodes: not a number: ${o.nodes}`);
      const { sandboxUp, envScript } = await import('../sandbox/index.js');
      const t = Date.now();
      const info = await sandboxUp({ root: o.dir, nodes }, progress(g.quiet));
      progress(g.quiet)(`up in ${((Date.now() - t) / 1000).toFixed(1)} s; eval "$(hivectl sandbox env)" to use it`);
      if (g.output === 'json') process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else if (g.output === 'yaml') process.stdout.write((await import('../core/yaml.js')).toYaml(info));
      else {
        process.stdout.write(
          [
            `kubeconfig:  ${info.kubeconfig} (contexts ${info.context}, ${info.drContext})`,
            `limited:     ${info.limitedKubeconfig} (ServiceAccount default/hivectl-limited, ClusterRole view)`,
            `aws:         ${info.endpointUrl} (${info.region}, ${info.drRegion})`,
            `postgres:    ${info.pgUrl}`,
            `redis:       ${info.redisUrl}`,
            `prometheus:  ${info.prometheusUrl}`,
            `pod execs:   ${info.execDir}/NAMESPACE/POD (mapped) or ${info.execDir}/_shared`,
            `env:         ${envScript(info).split('\n').length - 1} variables in ${info.stateDir}/env.sh`,
            '',
          ].join('\n'),
        );
      }
    });

  sb.command('env')
    .description('print `export ...` lines for the running sandbox (eval "$(hivectl sandbox env)")')
    .option('--write-config <file>', 'also write a hivectl.yaml pointing at the sandbox')
    .option('--dir <dir>', 'cache dir')
    .action(async (o: { writeConfig?: string; dir?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { sandboxInfo, envScript, sandboxConfigYaml } = await import('../sandbox/index.js');
      const info = sandboxInfo({ root: o.dir });
      if (o.writeConfig) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(o.writeConfig, sandboxConfigYaml(info));
        progress(g.quiet)(`wrote ${o.writeConfig}`);
      }
      if (g.output === 'json') process.stdout.write(`${JSON.stringify(info.env, null, 2)}\n`);
      else process.stdout.write(envScript(info));
    });

  sb.command('status')
    .description('each component: running?, pid, port, log')
    .option('--dir <dir>', 'cache dir')
    .action(async (o: { dir?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { sandboxStatus } = await import('../sandbox/index.js');
      const st = await sandboxStatus({ root: o.dir });
      if (g.output === 'json') process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
      else if (g.output === 'yaml') process.stdout.write((await import('../core/yaml.js')).toYaml(st));
      else {
        const rows = [['COMPONENT', 'RUNNING', 'PID', 'PORT', 'RSS', 'LOG']];
        for (const c of st.components)
          rows.push([
            c.name,
            c.running ? 'yes' : 'NO',
            String(c.pid ?? '-'),
            String(c.port ?? '-'),
            c.rssBytes ? mib(c.rssBytes) : '-',
            c.log,
          ]);
        const { textTable } = await import('../core/table.js');
        process.stdout.write(textTable(rows));
        process.stdout.write(
          st.components.length === 0
            ? `no sandbox in ${st.root} (hivectl sandbox up)\n`
            : `${st.up ? 'up' : 'NOT up'}; total RSS ${mib(st.rssBytes)}\n`,
        );
      }
      // Not everything running: say so in the exit code too (scripts check it).
      if (!st.up) process.exitCode = 1;
    });

  sb.command('down')
    .description('stop every process the sandbox started; --purge also deletes its state (keeps built binaries)')
    .option('--purge', 'delete clusters, databases and state', false)
    .option('--dir <dir>', 'cache dir')
    .action(async (o: { purge: boolean; dir?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { sandboxDown } = await import('../sandbox/index.js');
      const r = await sandboxDown({ root: o.dir, purge: o.purge }, progress(g.quiet));
      if (g.output === 'json') process.stdout.write(`${JSON.stringify(r)}\n`);
      else
        process.stdout.write(
          `stopped: ${r.stopped.join(', ') || 'nothing was running'}${o.purge ? '; state purged' : ''}\n`,
        );
      if (r.stillListening.length > 0) {
        const { StepError } = await import('../core/errors.js');
        throw new StepError(`ports still listening after down: ${r.stillListening.join(', ')}`, {
          hint: 'something else took them, or a server ignored SIGTERM: check `ss -ltnp`',
        });
      }
    });
}
