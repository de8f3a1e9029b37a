// The launcher flags shared by the commands that run a grid of runs (reproduce, ablate, select): where the runs execute
// (src/experiments/launcher.ts) and the Slurm / Kubernetes options, which override the --launcher-config file's
// sections (src/experiments/launch-config.ts, where every field's default and meaning are).
import { KitError } from '../errors';
import { LAUNCHERS, LauncherName, resolveLauncherConfig } from '../experiments/launch-config';
import { Launcher, makeLauncher } from '../experiments/launcher';
import type { FlagSpec, FlagValues } from './args';

export const LAUNCH_FLAGS: FlagSpec = {
  launcher: { type: 'string', default: 'local' },
  'launcher-config': { type: 'string' },
  detach: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  partition: { type: 'string' },
  time: { type: 'string' },
  mem: { type: 'string' },
  gpus: { type: 'string' },
  account: { type: 'string' },
  sbatch: { type: 'string', multiple: true },
  image: { type: 'string' },
  namespace: { type: 'string' },
  pvc: { type: 'string' },
};

export const LAUNCH_USAGE =
  '[--launcher local|slurm|k8s] [--launcher-config FILE] [--detach] [--dry-run] [--partition P] [--time HH:MM:SS] [--mem 32G] [--gpus N] [--account A] [--sbatch=--qos=long …] [--image IMAGE] [--namespace NS] [--pvc CLAIM] (see docs/cluster.md)';

/** Which section each option sets, per launcher (undefined: the option has no meaning there). */
const TARGETS: Record<string, Partial<Record<LauncherName, string>>> = {
  partition: { slurm: 'partition' },
  time: { slurm: 'time' },
  mem: { slurm: 'mem', k8s: 'memory' },
  gpus: { slurm: 'gpus', k8s: 'gpus' },
  account: { slurm: 'account' },
  sbatch: { slurm: 'extra' },
  image: { k8s: 'image' },
  namespace: { k8s: 'namespace' },
  pvc: { k8s: 'volumeClaim' },
};

/** The launcher the flags ask for, or undefined for the default (local, no options). */
export function launcherFromFlags(f: FlagValues): Launcher | undefined {
  const name = f.launcher as string;
  if (!(LAUNCHERS as readonly string[]).includes(name)) throw new KitError(`--launcher: unknown launcher '${name}'; valid: ${LAUNCHERS.join(', ')}`);
  const launcher = name as LauncherName;
  const overrides: { source: string; value: unknown }[] = [];
  for (const [flag, target] of Object.entries(TARGETS)) {
    const v = f[flag];
    if (v === undefined) continue;
    const key = target[launcher];
    if (!key) throw new KitError(`--${flag} applies to --launcher ${Object.keys(target).join(' or ')}, not ${launcher}`);
    let value: unknown = v;
    if (flag === 'gpus') {
      value = Number(v);
      if (!Number.isInteger(value) || (value as number) < 0) throw new KitError(`--gpus must be an integer >= 0, got '${v}'`);
    }
    overrides.push({ source: `--${flag}`, value: { [launcher]: { [key]: value } } });
  }
  if (launcher === 'local' && f['launcher-config'] !== undefined) throw new KitError('--launcher-config applies to --launcher slurm or k8s, not local');
  const config = resolveLauncherConfig(f['launcher-config'] as string | undefined, overrides);
  const l = makeLauncher({ name: launcher, config, detach: f.detach === true, dryRun: f['dry-run'] === true, print: (t) => process.stdout.write(t) });
  return launcher === 'local' ? undefined : l;
}

/** The command's report while a cluster still has runs: what is pending and how to go on. Exit code 0. */
export function reportPending(command: string, pending: string[], dryRun: boolean): number {
  if (dryRun) return 0;
  console.error(
    `introllm ${command}: ${pending.length} run${pending.length === 1 ? '' : 's'} queued or running (${pending.join(', ')}); run the same command again to see their state, and the summary is written once all have finished`,
  );
  return 0;
}
