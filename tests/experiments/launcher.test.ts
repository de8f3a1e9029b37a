// The cluster launchers without a cluster: the sbatch array script and the Kubernetes Indexed Job run each task's
// (index's) command exactly as the local launcher would (checked by executing the generated shell with the kit
// replaced by echo), one task per unfinished run; the launcher options' errors name the flag or the file and key; and
// a missing sbatch is one clear error that changes nothing. Against a real Slurm: slurm.test.ts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Job } from '../../src/experiments/jobs';
import { k8sJobName, k8sManifest } from '../../src/experiments/k8s';
import { DEFAULT_LAUNCHER_CONFIG, resolveLauncherConfig } from '../../src/experiments/launch-config';
import { slurmScript } from '../../src/experiments/slurm';
import { parseFlags } from '../../src/commands/args';
import { LAUNCH_FLAGS, launcherFromFlags } from '../../src/commands/launch-flags';
import { expectKitError, tempDir } from '../helpers/kit';

const ROOT = path.join(__dirname, '..', '..');
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [path.join(ROOT, 'bin', 'introllm.js'), ...args], { encoding: 'utf8', cwd: ROOT, env });

// Arguments that need quoting in a shell: spaces, quotes, $ and a glob.
const JOBS: Job[] = [
  { name: 'introllm seed 0', args: ['train', '--preset', 'smoke', '--method', 'introllm', '--seed', '0', '--out', 'runs/x/runs/introllm/seed-0'] },
  {
    name: "tau-range 'wide' seed 1",
    args: ['train', '--set', 'controller.tauMin=0.1', '--set', 'task.instruction=Think $HOME * step by step; "box" it', '--out', 'runs/x/a b'],
  },
  { name: 'before RL (the base model at τ = 1)', args: ['eval', '--methods', 'fixed-1.0,introllm', '--seeds', '0,1', '--out', 'runs/x/before-rl'] },
];

/** The arguments the kit receives when `shell` runs with `env` (the kit replaced by a printer of its arguments). */
function argsRun(shell: string, env: Record<string, string>, interpreter = 'bash'): string[] {
  const file = path.join(dir, `script-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, shell);
  const r = spawnSync(interpreter, [file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

// A stand-in for node: prints its arguments after the kit's path as JSON.
const PRINTER = path.join(dir, 'print-args');
fs.writeFileSync(PRINTER, `#!${process.execPath}\nconsole.log(JSON.stringify(process.argv.slice(3)));\n`, { mode: 0o755 });

describe('the sbatch array script', () => {
  const cfg = {
    ...DEFAULT_LAUNCHER_CONFIG.slurm,
    partition: 'gpu',
    time: '04:00:00',
    mem: '32G',
    gpus: 1,
    account: 'lab',
    extra: ['--qos=long'],
    setup: ['module load nodejs/20'],
  };
  const script = slurmScript(
    JOBS,
    { ...cfg, setup: [] },
    { label: 'smoke-x', width: 2, logDir: '/shared/x/slurm/logs', cwd: '/shared', node: PRINTER, kit: '/kit/bin/introllm.js' },
  );

  it("array task i runs the i-th run's command, word for word", () => {
    JOBS.forEach((j, i) => expect(argsRun(script, { SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_JOB_ID: '7' })).toEqual(j.args));
    const bad = spawnSync('bash', ['-c', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_JOB_ID: '7' },
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('no run for array task 3');
  });

  it('has one task per run, --jobs as the %N throttle, and the resources from the config', () => {
    const sb = script
      .split('\n')
      .filter((l) => l.startsWith('#SBATCH '))
      .map((l) => l.slice(8));
    expect(sb).toEqual([
      '--job-name=introllm-smoke-x',
      '--array=0-2%2',
      '--output=/shared/x/slurm/logs/%A_%a.log',
      '--chdir=/shared',
      '--ntasks=1',
      '--cpus-per-task=1',
      '--partition=gpu',
      '--time=04:00:00',
      '--mem=32G',
      '--gpus-per-task=1',
      '--account=lab',
      '--qos=long',
    ]);
    // No throttle when every run fits at once (--jobs ≥ runs, or no --jobs on a cluster); setup lines run before the kit.
    const open = slurmScript(
      JOBS,
      { ...DEFAULT_LAUNCHER_CONFIG.slurm, setup: ['module load nodejs/20'] },
      { label: 'l', width: 0, logDir: '/l', cwd: '/', node: 'node', kit: 'k' },
    );
    expect(open).toContain('#SBATCH --array=0-2\n');
    expect(open).not.toContain('--partition');
    expect(open.indexOf('module load nodejs/20')).toBeLessThan(open.indexOf('case "$SLURM_ARRAY_TASK_ID"'));
    expect(slurmScript(JOBS, DEFAULT_LAUNCHER_CONFIG.slurm, { label: 'l', width: 3, logDir: '/l', cwd: '/', node: 'node', kit: 'k' })).toContain(
      '#SBATCH --array=0-2\n',
    );
  });
});

describe('the Kubernetes Indexed Job', () => {
  const cfg = {
    ...DEFAULT_LAUNCHER_CONFIG.k8s,
    image: 'registry.example/introllm:1',
    volumeClaim: 'study',
    gpus: 1,
    memory: '32Gi',
    namespace: 'ml',
    node: PRINTER,
  };
  const name = k8sJobName('smoke-a-study-folder-with-a-long-name-that-goes-on-and-on', '/shared/x', 3);
  const m = k8sManifest(JOBS, cfg, { name, width: 2, label: 'smoke-x' }) as any;

  it('is a batch/v1 Indexed Job with one index per run, the volume mounted and a GPU per pod', () => {
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/); // a DNS-1123 label …
    expect(name.length).toBeLessThanOrEqual(63); // … of at most 63 characters
    expect(name.endsWith('-3')).toBe(true);
    expect(k8sJobName('s', '/shared/y', 3)).not.toBe(k8sJobName('s', '/shared/x', 3)); // one study folder, one name
    expect([m.apiVersion, m.kind, m.metadata.name, m.metadata.namespace]).toEqual(['batch/v1', 'Job', name, 'ml']);
    expect(m.spec.completionMode).toBe('Indexed');
    expect([m.spec.completions, m.spec.parallelism, m.spec.backoffLimitPerIndex]).toEqual([3, 2, 2]);
    const pod = m.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never'); // required by backoffLimitPerIndex
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.image).toBe('registry.example/introllm:1');
    expect(c.workingDir).toBe('/work');
    expect(c.resources).toEqual({ requests: { cpu: '1', memory: '32Gi' }, limits: { memory: '32Gi', 'nvidia.com/gpu': '1' } });
    expect(c.volumeMounts).toEqual([{ name: 'study', mountPath: '/work' }]);
    expect(pod.volumes).toEqual([{ name: 'study', persistentVolumeClaim: { claimName: 'study' } }]);
    expect(m.spec.template.metadata.labels).toEqual(m.metadata.labels);
    // Every value Kubernetes reads as a string is one (a number in env or resources is refused by the API server).
    for (const e of c.env) expect(typeof e.value).toBe('string');
    for (const v of Object.values(c.resources.limits)) expect(typeof v).toBe('string');
  });

  it("index i runs the i-th run's command, word for word", () => {
    const [shell, flag, script] = m.spec.template.spec.containers[0].command;
    expect([shell, flag]).toEqual(['/bin/sh', '-c']);
    JOBS.forEach((j, i) => expect(argsRun(script, { JOB_COMPLETION_INDEX: String(i) }, 'sh')).toEqual(j.args));
  });
});

describe('launcher options', () => {
  it('a launcher config file with an unknown key or a wrong type is refused naming the file and the key', () => {
    const f = path.join(dir, 'launcher.json');
    fs.writeFileSync(f, JSON.stringify({ slurm: { partiton: 'gpu' } }));
    expectKitError(() => resolveLauncherConfig(f), f, "unknown key 'slurm.partiton'", 'partition');
    fs.writeFileSync(f, JSON.stringify({ slurm: { gpus: '2' } }));
    expectKitError(() => resolveLauncherConfig(f), f, "'slurm.gpus' must be a number");
    fs.writeFileSync(f, JSON.stringify({ slurm: { extra: ['--qos=long\nrm -rf /'] } }));
    expectKitError(() => resolveLauncherConfig(f), "'slurm.extra' must be one line");
    fs.writeFileSync(f, JSON.stringify({ slurm: { partition: 'gpu', extra: ['--qos=long'] }, k8s: { image: 'i' } }));
    const c = resolveLauncherConfig(f, [{ source: '--partition', value: { slurm: { partition: 'debug' } } }]);
    expect([c.slurm.partition, c.slurm.extra, c.k8s.image, c.slurm.pollSeconds]).toEqual(['debug', ['--qos=long'], 'i', 10]); // flags win; defaults stay
  });

  it('an option for another launcher, or --detach on the local one, is one line naming the flag', () => {
    const flags = (...args: string[]) => launcherFromFlags(parseFlags(args, LAUNCH_FLAGS));
    expectKitError(() => flags('--partition', 'gpu'), '--partition applies to --launcher slurm, not local');
    expectKitError(() => flags('--launcher', 'k8s', '--partition', 'gpu'), '--partition applies to --launcher slurm, not k8s');
    expectKitError(() => flags('--launcher', 'pbs'), "--launcher: unknown launcher 'pbs'; valid: local, slurm, k8s");
    expectKitError(() => flags('--launcher', 'slurm', '--gpus', 'two'), "--gpus must be an integer >= 0, got 'two'");
    expect(flags()).toBeUndefined(); // the default: local, today's code path
    expect(flags('--launcher', 'slurm', '--partition', 'gpu')?.name).toBe('slurm');
    // Through the CLI: one line, exit code 2, before anything is written.
    const r = cli(['reproduce', '--preset', 'smoke', '--out', path.join(dir, 'never'), '--detach']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'introllm reproduce: --detach needs --launcher slurm or k8s (the local launcher runs the runs as child processes of this command)',
    );
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });
});

describe('launching a study without the cluster tools', () => {
  it('no sbatch on PATH: one clear error, no submission recorded, the run folders as they were', () => {
    const out = path.join(dir, 'no-sbatch');
    const finished = path.join(out, 'runs', 'fixed-1.0', 'seed-1', 'eval.json');
    fs.mkdirSync(path.dirname(finished), { recursive: true });
    fs.writeFileSync(finished, '{}');
    const empty = path.join(dir, 'empty-bin');
    fs.mkdirSync(empty, { recursive: true });
    const r = cli(['reproduce', '--preset', 'smoke', '--methods', 'fixed-1.0', '--seeds', '0,1', '--out', out, '--launcher', 'slurm'], {
      ...process.env,
      PATH: empty,
    });
    expect(r.status).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('introllm'));
    expect(errors).toEqual([
      "introllm reproduce: --launcher slurm: 'sbatch' is not on PATH (run the command on a Slurm login node, or use --launcher local); nothing was submitted and no run folder was changed",
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readdirSync(path.join(out, 'slurm'))).toEqual([]); // neither a script nor a ledger
    expect(fs.readFileSync(finished, 'utf8')).toBe('{}');
    expect(fs.readdirSync(path.join(out, 'runs', 'fixed-1.0'))).toEqual(['seed-1']);
  });

  it('--launcher slurm --dry-run prints the array script for the unfinished runs and submits nothing, even where Slurm is not', () => {
    const out = path.join(dir, 'slurm-dry');
    fs.mkdirSync(path.join(out, 'runs', 'fixed-1.0', 'seed-0'), { recursive: true });
    fs.writeFileSync(path.join(out, 'runs', 'fixed-1.0', 'seed-0', 'eval.json'), '{}');
    const empty = path.join(dir, 'empty-bin-dry');
    fs.mkdirSync(empty, { recursive: true });
    const r = cli(
      [
        'reproduce',
        '--preset',
        'smoke',
        '--methods',
        'fixed-1.0,edt',
        '--seeds',
        '0',
        '--out',
        out,
        '--launcher',
        'slurm',
        '--dry-run',
        '--partition',
        'gpu',
        '--gpus',
        '1',
        '--sbatch=--qos=long',
      ],
      { ...process.env, PATH: empty },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith('#!/bin/bash\n')).toBe(true);
    for (const line of ['#SBATCH --array=0-1', '#SBATCH --partition=gpu', '#SBATCH --gpus-per-task=1', '#SBATCH --qos=long'])
      expect(r.stdout).toContain(line + '\n');
    expect(r.stdout).toContain(`--out ${path.join(out, 'runs', 'edt', 'seed-0')} ;;`);
    expect(r.stdout).not.toContain(path.join(out, 'runs', 'fixed-1.0'));
    expect(r.stderr).toContain('--dry-run: the array script above (2 tasks) was not submitted');
    expect(fs.existsSync(path.join(out, 'slurm'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
  });

  it('--launcher k8s --dry-run prints one index per unfinished run and writes no manifest', () => {
    const out = path.join(dir, 'k8s');
    // Two of the smoke preset's twelve training runs are finished; the before-RL evaluation is not.
    for (const d of ['introllm/seed-0', 'edt/seed-1']) {
      fs.mkdirSync(path.join(out, 'runs', d), { recursive: true });
      fs.writeFileSync(path.join(out, 'runs', d, 'eval.json'), '{}');
    }
    const r = cli([
      'reproduce',
      '--preset',
      'smoke',
      '--out',
      out,
      '--launcher',
      'k8s',
      '--dry-run',
      '--jobs',
      '4',
      '--image',
      'img:1',
      '--pvc',
      'study',
      '--gpus',
      '1',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout);
    expect([m.spec.completions, m.spec.parallelism]).toEqual([11, 4]);
    expect(m.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    const script: string = m.spec.template.spec.containers[0].command[2];
    expect(script).not.toContain('runs/introllm/seed-0');
    expect(script).not.toContain('runs/edt/seed-1');
    expect(script).toContain(path.join(out, 'runs', 'introllm', 'seed-1'));
    expect(script).toContain(path.join(out, 'before-rl'));
    expect(fs.existsSync(path.join(out, 'k8s'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
    expect(r.stderr).toContain('--dry-run: the Indexed Job above (11 indexes) was not applied');
  });

  it('--launcher k8s without kubectl writes the manifest and says how to apply it; without an image it is one clear error', () => {
    const out = path.join(dir, 'k8s-apply');
    const empty = path.join(dir, 'empty-bin-k8s');
    fs.mkdirSync(empty, { recursive: true });
    const args = ['reproduce', '--preset', 'smoke', '--methods', 'fixed-1.0', '--seeds', '0', '--out', out, '--launcher', 'k8s'];
    const noImage = cli(args, { ...process.env, PATH: empty });
    expect(noImage.status).toBe(2);
    expect(noImage.stderr.split('\n').filter((l) => l.startsWith('introllm reproduce:'))).toEqual([
      expect.stringContaining('--launcher k8s: no image: give --image'),
    ]);
    const r = cli([...args, '--image', 'img:1'], { ...process.env, PATH: empty }); // no kubectl: nothing can reach a cluster
    expect(r.status, r.stderr).toBe(0);
    const file = path.join(out, 'k8s', 'job-1.json');
    expect(r.stderr).toContain(`kubectl is not on PATH: the Indexed Job is written to ${file}`);
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect([m.kind, m.spec.completions, m.spec.template.spec.containers[0].image]).toEqual(['Job', 2, 'img:1']);
    expect(fs.existsSync(path.join(out, 'summary.json'))).toBe(false);
  });
});
