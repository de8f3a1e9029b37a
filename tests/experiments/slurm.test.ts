// `--launcher slurm` against a real Slurm (scripts/slurm-single-node.sh start; CI starts one): the smoke preset's
// reproduction (two methods, one seed, the before-RL evaluation) gives the same summary.json through a job array as
// through local child processes, with one of its tasks cancelled mid-run (scancel): running the command again submits
// only that run, which resumes from its checkpoint, and waits for the others. A bad partition is one clear error that
// loses nothing. One pipeline rather than separate tests, to keep the whole check near a minute and a half on CI. Skipped, saying why, where no Slurm is up; INTROLLM_REQUIRE_SLURM=1 (CI) fails instead.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/kit';

const ROOT = path.join(__dirname, '..', '..');

/** Null when a Slurm cluster answers with a usable node, else why not. */
function slurmMissing(): string | null {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  if (r.error) return `no sinfo on PATH (${(r.error as NodeJS.ErrnoException).code}); start a one-node cluster with scripts/slurm-single-node.sh start`;
  if (r.status !== 0) return `sinfo failed (${r.stderr.trim().split('\n')[0]}); start a one-node cluster with scripts/slurm-single-node.sh start`;
  if (!/^(idle|mixed|allocated|completing)/m.test(r.stdout)) return `no usable Slurm node (sinfo: ${r.stdout.trim() || 'none'})`;
  return null;
}

const missing = slurmMissing();
const required = process.env.INTROLLM_REQUIRE_SLURM === '1';
if (missing && !required) console.warn(`tests/experiments/slurm.test.ts: skipped: ${missing}`);

const dir = tempDir('introllm-slurm-test-');
afterAll(() => {
  spawnSync('scancel', ['--me', '--name', 'introllm-smoke-slurm'], { encoding: 'utf8' }); // nothing of this file left queued
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'introllm.js'), ...args], { encoding: 'utf8', cwd: ROOT });
// The smoke preset's reproduction, cut to what a 2-core CI machine runs in well under a minute per launcher.
const SMOKE = ['reproduce', '--preset', 'smoke', '--methods', 'introllm,fixed-1.0', '--seeds', '0', '--jobs', '2'];
const launcherConfig = path.join(dir, 'launcher.json');
fs.writeFileSync(launcherConfig, JSON.stringify({ slurm: { pollSeconds: 1 } }));
const SLURM = ['--launcher', 'slurm', '--launcher-config', launcherConfig];
const read = (...p: string[]) => fs.readFileSync(path.join(...p), 'utf8');
const ledger = (out: string) => JSON.parse(read(out, 'slurm', 'submissions.json')) as { job_id: string; tasks: { index: number; name: string }[] }[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(missing !== null && !required)(`--launcher slurm on a real cluster${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const local = path.join(dir, 'local');

  it('the cluster is up', () => {
    expect(missing).toBeNull();
  });

  it.skipIf(missing !== null)(
    "the smoke reproduction through a job array, one task cancelled mid-run and resubmitted, writes the local launcher's summary.json",
    async () => {
      const t0 = Date.now();
      const a = cli(...SMOKE, '--out', local);
      expect(a.status, a.stderr).toBe(0);
      const t1 = Date.now();
      const out = path.join(dir, 'slurm');
      const args = [...SMOKE, ...SLURM, '--out', out];
      // Submitted detached: the command returns with the three runs queued or running and no summary.
      const detached = cli(...args, '--detach');
      expect(detached.status, detached.stderr).toBe(0);
      expect(detached.stderr).toContain('3 runs queued or running');
      expect(fs.existsSync(path.join(out, 'summary.json'))).toBe(false);
      const [first] = ledger(out);
      expect(first.tasks.map((t) => t.name)).toEqual(['introllm seed 0', 'fixed-1.0 seed 0', 'before RL (the base model at τ = 1)']);
      expect(read(out, 'slurm', 'array-1.sh')).toContain('#SBATCH --array=0-2%2\n'); // --jobs 2 is the array's throttle
      // Again at once: the three are in flight, so nothing is submitted a second time.
      const again = cli(...args, '--detach');
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).toContain('3 runs queued or running');
      expect(ledger(out)).toHaveLength(1);

      // scancel IntroLLM's task once its run has checkpointed a step.
      const run = path.join(out, 'runs', 'introllm', 'seed-0');
      for (let i = 0; i < 900 && !fs.existsSync(path.join(run, 'ckpt', 'state.json')); i++) await sleep(100);
      expect(fs.existsSync(path.join(run, 'ckpt', 'state.json')), 'the run never checkpointed').toBe(true);
      const cancel = spawnSync('scancel', [`${first.job_id}_0`], { encoding: 'utf8' });
      expect(cancel.status, cancel.stderr).toBe(0);
      for (let i = 0; i < 100; i++) {
        const q = spawnSync('squeue', ['--me', '-h', '-r', '--states=all', '-o', '%i|%T'], { encoding: 'utf8' }).stdout;
        if (q.includes(`${first.job_id}_0|CANCELLED`)) break;
        await sleep(100);
      }
      expect(fs.existsSync(path.join(run, 'eval.json'))).toBe(false);
      const checkpoint = read(run, 'ckpt', 'state.json');

      // A partition that does not exist: one line, exit 2, no submission recorded, the run folder as it was.
      const bad = cli(...args, '--partition', 'no-such-partition');
      expect(bad.status).toBe(2);
      expect(bad.stderr.split('\n').filter((l) => l.startsWith('introllm reproduce:'))).toEqual([
        expect.stringMatching(
          /^introllm reproduce: --launcher slurm: sbatch refused the array script \(.*nvalid partition.*\); nothing was submitted and no run folder was changed/,
        ),
      ]);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
      expect(ledger(out)).toHaveLength(1);
      expect(fs.existsSync(path.join(out, 'slurm', 'array-2.sh'))).toBe(false);
      expect(read(run, 'ckpt', 'state.json')).toBe(checkpoint);

      // Again, waiting: only the cancelled run is submitted (the first array's other tasks are left to finish), and it
      // resumes from its checkpoint.
      const b = cli(...args);
      expect(b.status, b.stderr).toBe(0);
      expect(b.stderr).toContain(`introllm seed 0: not finished after Slurm task ${first.job_id}_0 (CANCELLED`);
      const subs = ledger(out);
      expect(subs).toHaveLength(2);
      expect(subs[1].tasks.map((t) => t.name)).toEqual(['introllm seed 0']);
      expect(read(out, 'slurm', 'logs', `${subs[1].job_id}_0.log`)).toMatch(/resuming .*runs\/introllm\/seed-0 after step [1-9]/);
      for (const t of first.tasks.slice(1)) expect(read(out, 'slurm', 'logs', `${first.job_id}_${t.index}.log`)).toMatch(/peak RSS \d+ MB/);
      const sessions = JSON.parse(read(out, 'manifest.json')).sessions;
      expect(sessions.map((x: { launcher: string; job_id?: string }) => [x.launcher, x.job_id])).toEqual([
        ['slurm', first.job_id],
        ['slurm', undefined],
        ['slurm', subs[1].job_id],
      ]);

      // The same results as the local launcher's, to the byte.
      expect(read(out, 'summary.json')).toBe(read(local, 'summary.json'));
      expect(read(out, 'table.md')).toBe(read(local, 'table.md'));
      for (const r of ['introllm/seed-0', 'fixed-1.0/seed-0']) expect(read(out, 'runs', r, 'eval.json')).toBe(read(local, 'runs', r, 'eval.json'));

      // Once more: nothing left to submit; the summary is written again, unchanged.
      const c = cli(...args);
      expect(c.status, c.stderr).toBe(0);
      expect(c.stderr).toContain('0 runs to do');
      expect(ledger(out)).toHaveLength(2);
      expect(read(out, 'summary.json')).toBe(read(local, 'summary.json'));
      console.log(
        `slurm.test.ts: local reproduction ${((t1 - t0) / 1000).toFixed(1)} s, through Slurm (detach, scancel, resubmit) ${((Date.now() - t1) / 1000).toFixed(1)} s`,
      );
    },
    240_000,
  );

  it.skipIf(missing !== null)(
    'a run that fails on its node is reported by name with its Slurm state, log path and last lines; the command exits 1',
    () => {
      const out = path.join(dir, 'failing');
      const config = path.join(dir, 'failing.json');
      fs.writeFileSync(config, JSON.stringify({ slurm: { pollSeconds: 1, setup: ['echo "no Node.js on this node" >&2', 'exit 3'] } }));
      const r = cli(
        'reproduce',
        '--preset',
        'smoke',
        '--methods',
        'fixed-1.0',
        '--seeds',
        '0',
        '--out',
        out,
        '--launcher',
        'slurm',
        '--launcher-config',
        config,
      );
      expect(r.status).toBe(1);
      const [sub] = ledger(out);
      for (const t of sub.tasks) {
        const log = path.join(out, 'slurm', 'logs', `${sub.job_id}_${t.index}.log`);
        expect(r.stderr).toContain(`${t.name} failed (Slurm state FAILED; log ${log}):\n  no Node.js on this node`);
      }
      expect(r.stderr).toContain('introllm reproduce: 2 run(s) failed: fixed-1.0 seed 0, before RL (the base model at τ = 1)');
    },
    60_000,
  );
});
