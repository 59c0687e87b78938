// vitest globalSetup of the 'integration' project: builds the CLI once (e2e tests run the built
// bin/hivectl.js), then brings the sandbox up through the same code as `hivectl sandbox up` (reusing
// a running one) and hands its SandboxInfo to every test file (inject('sandbox')). If the sandbox
// cannot start, the run fails here with the sandbox's own error: integration tests never skip.
// It stays up afterwards so reruns are fast, unless HIVECTL_SANDBOX_TEARDOWN=1.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { kubectlRun, layout, type SandboxInfo, sandboxDown, sandboxRoot, sandboxUp } from '../../src/sandbox/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxInfo;
  }
}

const repo = fileURLToPath(new URL('../..', import.meta.url));

export default async function setup(project: TestProject) {
  const log = (m: string) => process.stderr.write(`[sandbox] ${m}\n`);
  if (process.env.HIVECTL_SKIP_BUILD !== '1') {
    log('npm run build');
    // flock: test runs started side by side must not swap dist/ in at the same moment.
    execFileSync('flock', [join(repo, 'node_modules', '.hivectl-build.lock'), 'npm', 'run', 'build', '--silent'], {
      cwd: repo,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  const t = Date.now();
  let info: SandboxInfo;
  try {
    info = await sandboxUp({}, log);
  } catch (e) {
    const err = e as Error & { hint?: string };
    throw new Error(
      `the sandbox could not start, so the integration tests cannot run: ${err.message}${err.hint ? ` (${err.hint})` : ''}`,
      { cause: e },
    );
  }
  log(`up in ${((Date.now() - t) / 1000).toFixed(1)} s (${info.context}, ${info.drContext}, ${info.endpointUrl})`);
  project.provide('sandbox', info);
  // Namespaces that exist now are not this run's; the ones the tests create are deleted at the end, so
  // runs do not pile pods up on the (long-lived) sandbox clusters.
  const l = layout(sandboxRoot());
  const contexts = [info.context, info.drContext];
  const namespaces = async (ctx: string) =>
    new Set(
      String((await kubectlRun(l, ctx, ['get', 'namespaces', '-o', 'name'], undefined, false)).stdout)
        .split('\n')
        .filter(Boolean),
    );
  const before = new Map<string, Set<string>>();
  for (const c of contexts) before.set(c, await namespaces(c));
  return async () => {
    for (const c of contexts) {
      const created = [...(await namespaces(c))].filter((n) => !before.get(c)?.has(n));
      if (created.length)
        await kubectlRun(l, c, ['delete', ...created, '--wait=false', '--ignore-not-found'], undefined, false);
      log(`${c}: deleted ${created.length} namespace(s) the tests created`);
    }
    if (process.env.HIVECTL_SANDBOX_TEARDOWN === '1') await sandboxDown({}, log);
  };
}
