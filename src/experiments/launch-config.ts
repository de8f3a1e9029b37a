// How a study's runs are started: the launcher section (`--launcher-config FILE`, a JSON object with `slurm` and `k8s`
// sections, then the command's flags), every field with its default, meaning and source. It is kept out of the
// experiment config on purpose: where a run executes never changes what it computes, so it is not written into any
// run folder's config.json (the same config and seeds give the same run folders on any launcher).
//
// Sources: "slurm" = the sbatch option of that name; "k8s" = the field of a batch/v1 Job; "ours" = a choice of this kit.
import * as fs from 'node:fs';
import { KitError } from '../errors';

export const LAUNCHERS = ['local', 'slurm', 'k8s'] as const;
export type LauncherName = (typeof LAUNCHERS)[number];

export interface SlurmConfig {
  /** Partition of the array tasks (sbatch --partition); '' = the cluster's default partition. */
  partition: string;
  /** Wall-time limit of one array task (sbatch --time, e.g. '04:00:00' or '2-00:00:00'); '' = the partition's default. A
   *  task stopped at its limit resumes from its run folder's last checkpoint when the command is run again. */
  time: string;
  /** Memory of one array task (sbatch --mem, e.g. '32G'); '' = the partition's default. */
  mem: string;
  /** GPUs of one array task (sbatch --gpus-per-task); 0 = none (CPU runs, e.g. the smoke preset). */
  gpus: number;
  /** CPU cores of one array task (sbatch --cpus-per-task). Ours: 1 (a TF.js CPU backend in Node is single-threaded). */
  cpus: number;
  /** Account charged (sbatch --account); '' = the user's default account. */
  account: string;
  /** Further `#SBATCH` lines, written as given after '#SBATCH ' (e.g. '--qos=long', '--constraint=a100'). */
  extra: string[];
  /** Lines of shell run by each task before the kit starts (e.g. 'module load nodejs/20'). Ours: none. */
  setup: string[];
  /** The Node.js executable on the compute nodes; '' = the one running this command (process.execPath), which then
   *  must be at the same path on every node (a shared install). */
  node: string;
  /** The kit's CLI on the compute nodes; '' = the one running this command (this checkout's bin/introllm.js, or the
   *  GPU bundle's introllm.cjs), which then must be on the shared filesystem. */
  kit: string;
  /** Seconds between two looks at the tasks' state while waiting (squeue, sacct, the run folders). Ours: 10. */
  pollSeconds: number;
}

export interface K8sConfig {
  /** Container image with Node.js 20 and the kit (its bin/introllm.js at `kit`); required to apply the Job. */
  image: string;
  /** Namespace of the Job; '' = kubectl's current namespace. */
  namespace: string;
  /** PersistentVolumeClaim mounted at `workdir` in every pod: the shared folder holding the study folder and the model
   *  folder (ReadWriteMany when pods run on several nodes). '' = none (only for a study folder baked into a test image). */
  volumeClaim: string;
  /** Working directory of every pod, where the claim is mounted: the runs' relative paths (the study folder, the
   *  model folder) resolve from it as they do from the directory the command was run in. Ours: '/work'. */
  workdir: string;
  /** GPUs of one pod (resources.limits of `gpuResource`); 0 = none. */
  gpus: number;
  /** The extended resource a GPU is requested as. Source: the NVIDIA device plugin's name. */
  gpuResource: string;
  /** CPU request of one pod (a Kubernetes quantity); '' = none. Ours: '1'. */
  cpu: string;
  /** Memory request and limit of one pod (e.g. '32Gi'); '' = none. */
  memory: string;
  /** Retries of one index before it counts as failed (k8s: backoffLimitPerIndex). A retried index resumes from its
   *  run folder's last checkpoint. Ours: 2. */
  retries: number;
  /** The Node.js executable in the image. Ours: 'node' (on the image's PATH). */
  node: string;
  /** The kit's bin/introllm.js in the image. Ours: '/kit/bin/introllm.js'. */
  kit: string;
}

export interface LauncherConfig {
  slurm: SlurmConfig;
  k8s: K8sConfig;
}

export const DEFAULT_LAUNCHER_CONFIG: LauncherConfig = {
  slurm: { partition: '', time: '', mem: '', gpus: 0, cpus: 1, account: '', extra: [], setup: [], node: '', kit: '', pollSeconds: 10 },
  k8s: {
    image: '',
    namespace: '',
    volumeClaim: '',
    workdir: '/work',
    gpus: 0,
    gpuResource: 'nvidia.com/gpu',
    cpu: '1',
    memory: '',
    retries: 2,
    node: 'node',
    kit: '/kit/bin/introllm.js',
  },
};

const typeName = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/** Merges `over` (from `source`: a file or a flag) into `base`, refusing unknown sections and keys and wrong types. */
export function mergeLauncherConfig(base: LauncherConfig, over: unknown, source: string): LauncherConfig {
  if (typeof over !== 'object' || over === null || Array.isArray(over))
    throw new KitError(`${source}: the launcher config must be an object, got ${typeName(over)}`);
  const out = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, fields] of Object.entries(over)) {
    const schema = (DEFAULT_LAUNCHER_CONFIG as unknown as Record<string, Record<string, unknown>>)[section];
    if (!schema) throw new KitError(`${source}: unknown launcher section '${section}'; valid: ${Object.keys(DEFAULT_LAUNCHER_CONFIG).join(', ')}`);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
      throw new KitError(`${source}: '${section}' must be an object, got ${typeName(fields)}`);
    for (const [k, v] of Object.entries(fields)) {
      if (!(k in schema)) throw new KitError(`${source}: unknown key '${section}.${k}'; valid keys here: ${Object.keys(schema).join(', ')}`);
      const want = schema[k];
      if (typeName(v) !== typeName(want))
        throw new KitError(`${source}: '${section}.${k}' must be a ${typeName(want)}, got ${typeName(v)} ${JSON.stringify(v)}`);
      if (Array.isArray(want) && !(v as unknown[]).every((x) => typeof x === 'string'))
        throw new KitError(`${source}: '${section}.${k}' must be an array of strings`);
      out[section][k] = v;
    }
  }
  const c = out as unknown as LauncherConfig;
  validateLauncherConfig(c, source);
  return c;
}

function validateLauncherConfig(c: LauncherConfig, source: string): void {
  const count = (v: number, key: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new KitError(`${source}: '${key}' must be an integer >= ${min}, got ${v}`);
  };
  count(c.slurm.gpus, 'slurm.gpus', 0);
  count(c.slurm.cpus, 'slurm.cpus', 1);
  count(c.k8s.gpus, 'k8s.gpus', 0);
  count(c.k8s.retries, 'k8s.retries', 0);
  if (!(c.slurm.pollSeconds > 0)) throw new KitError(`${source}: 'slurm.pollSeconds' must be > 0, got ${c.slurm.pollSeconds}`);
  // One line each: a newline would end the #SBATCH line (or the YAML scalar) and start a command.
  for (const [k, v] of [
    ['slurm.partition', c.slurm.partition],
    ['slurm.time', c.slurm.time],
    ['slurm.mem', c.slurm.mem],
    ['slurm.account', c.slurm.account],
    ...c.slurm.extra.map((x) => ['slurm.extra', x]),
  ]) {
    if (/[\r\n]/.test(v)) throw new KitError(`${source}: '${k}' must be one line, got ${JSON.stringify(v)}`);
  }
  if (c.k8s.workdir && !c.k8s.workdir.startsWith('/')) throw new KitError(`${source}: 'k8s.workdir' must be an absolute path, got '${c.k8s.workdir}'`);
}

/** DEFAULT_LAUNCHER_CONFIG ← `file` (when given) ← `overrides` (from flags), each checked. */
export function resolveLauncherConfig(file: string | undefined, overrides: { source: string; value: unknown }[] = []): LauncherConfig {
  let c = DEFAULT_LAUNCHER_CONFIG;
  if (file !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new KitError(`${file}: cannot read the launcher config (${(e as Error).message.split('\n')[0]})`);
    }
    c = mergeLauncherConfig(c, raw, file);
  }
  for (const o of overrides) c = mergeLauncherConfig(c, o.value, o.source);
  return c;
}
