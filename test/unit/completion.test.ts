import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { completionScript, completionTree, register } from '../../src/commands/completion.js';
import { register as registerConfig } from '../../src/commands/config.js';
import { register as registerDoctor } from '../../src/commands/doctor.js';
import { UsageError } from '../../src/core/errors.js';

function program(): Command {
  const p = new Command('hivectl')
    .option('--kubeconfig <file>', 'kubeconfig file')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']));
  registerConfig(p);
  registerDoctor(p);
  register(p);
  return p;
}

describe('completion', () => {
  it('walks the program tree: every command, subcommand and option', () => {
    const p = program();
    // A command added later shows up without touching the completion code.
    p.command('later').description('added later').option('--fresh', 'a new flag');
    const nodes = completionTree(p);
    const paths = nodes.map((n) => n.path.join(' '));
    expect(paths).toEqual(expect.arrayContaining(['', 'config', 'config init', 'config show', 'doctor', 'later']));
    const root = nodes.find((n) => n.path.length === 0);
    expect(root?.options.find((o) => o.flags.includes('--output'))?.choices).toEqual(['table', 'json', 'yaml']);
    expect(root?.options.find((o) => o.flags.includes('--kubeconfig'))?.path).toBe(true);
    const doctor = nodes.find((n) => n.path.join(' ') === 'doctor');
    expect(doctor?.options.find((o) => o.flags.includes('--check-timeout'))?.path).toBeUndefined();
    for (const shell of ['bash', 'zsh', 'fish']) {
      const s = completionScript(p, shell);
      for (const w of ['config', 'doctor', 'completion', 'later', 'fresh', 'output', 'validate'])
        expect(s).toContain(w);
    }
  });

  it('bash: the script parses and completes subcommands, nested subcommands and choices', () => {
    const s = completionScript(program(), 'bash');
    execFileSync('bash', ['-n'], { input: s });
    const complete = (line: string) => {
      const words = line.split(' ');
      const script = `${s}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _hivectl; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    };
    expect(complete('hivectl co')).toEqual(['config', 'completion']);
    expect(complete('hivectl config s')).toEqual(['show']);
    expect(complete('hivectl --kubeconfig x config ')).toEqual(expect.arrayContaining(['init', 'validate', 'show']));
    expect(complete('hivectl -o j')).toEqual(['json']);
    expect(complete('hivectl doctor --check')).toEqual(['--check-timeout']);
  });

  it('zsh: the script parses', () => {
    execFileSync('zsh', ['-n'], { input: completionScript(program(), 'zsh') });
  });

  it('fish: the script parses', () => {
    // fish --no-execute reads a file, not standard input.
    const dir = mkdtempSync(join(tmpdir(), 'hivectl-fish-'));
    const file = join(dir, 'hivectl.fish');
    writeFileSync(file, completionScript(program(), 'fish'));
    try {
      execFileSync('fish', ['--no-execute', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown shell is a usage error', () => {
    expect(() => completionScript(program(), 'tcsh')).toThrow(UsageError);
  });
});
