// `--launcher k8s`: a study's unfinished runs as one Kubernetes Indexed Job (completionMode: Indexed), index i running
// the i-th run's command (a `case` on JOB_COMPLETION_INDEX), every pod mounting the shared folder that holds the study
// and the model. The manifest is <out>/k8s/job-<n>.json (JSON, which kubectl reads as it reads YAML); it is applied with
// `kubectl apply` where kubectl is on PATH, and printed instead with --dry-run. The runs' state is read back from their
// run folders: running the command again submits a Job for the runs that are still not finished (unless the last Job
// is still active) and summarises once none is left.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import type { Job } from './jobs';
import type { K8sConfig } from './launch-config';
import type { LaunchOptions, LaunchOutcome, Launcher } from './launcher';
import { jobKey, shellQuote } from './launch-util';

export interface K8sSubmission {
  name: string;
  namespace: string;
  manifest: string;
  submitted: string;
  runs: string[];
}

/** A DNS-1123 label of at most 63 characters: 'introllm-', the study's label, a hash of its folder, the submission. */
export function k8sJobName(label: string, out: string, n: number): string {
  const hash = crypto.createHash('sha256').update(path.resolve(out)).digest('hex').slice(0, 8);
  const tail = `-${hash}-${n}`;
  const stem = `introllm-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`.slice(0, 63 - tail.length).replace(/-+$/, '');
  return stem + tail;
}

/** The Indexed Job of `jobs` (index i runs jobs[i]); `width` pods at a time (0: all). */
export function k8sManifest(jobs: Job[], cfg: K8sConfig, o: { name: string; width: number; label: string }): Record<string, unknown> {
  const n = jobs.length;
  const script = [
    'set -u',
    'case "$JOB_COMPLETION_INDEX" in',
    ...jobs.map((j, i) => `  ${i}) set -- ${j.args.map(shellQuote).join(' ')} ;;`),
    '  *) echo "introllm: no run for index $JOB_COMPLETION_INDEX" >&2; exit 2 ;;',
    'esac',
    `exec ${shellQuote(cfg.node)} ${shellQuote(cfg.kit)} "$@"`,
  ].join('\n');
  const labels = { 'app.kubernetes.io/name': 'introllm', 'app.kubernetes.io/instance': o.name };
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (cfg.cpu) requests.cpu = cfg.cpu;
  if (cfg.memory) requests.memory = limits.memory = cfg.memory;
  if (cfg.gpus > 0) limits[cfg.gpuResource] = String(cfg.gpus);
  const container: Record<string, unknown> = {
    name: 'run',
    image: cfg.image || 'REPLACE-WITH-AN-IMAGE-WITH-NODE-20-AND-THE-KIT',
    command: ['/bin/sh', '-c', script],
    workingDir: cfg.workdir,
    env: [{ name: 'INTROLLM_REPORT_PEAK_RSS', value: '1' }],
    resources: { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) },
    ...(cfg.volumeClaim ? { volumeMounts: [{ name: 'study', mountPath: cfg.workdir }] } : {}),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: o.name,
      ...(cfg.namespace ? { namespace: cfg.namespace } : {}),
      labels,
      annotations: { 'introllm/study': o.label, 'introllm/runs': jobs.map((j) => j.name).join('; ') },
    },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: o.width > 0 ? Math.min(o.width, n) : n,
      // Each index retries on its own and one failing index does not stop the others (Kubernetes 1.29 and later).
      backoffLimitPerIndex: cfg.retries,
      maxFailedIndexes: n,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [container],
          ...(cfg.volumeClaim ? { volumes: [{ name: 'study', persistentVolumeClaim: { claimName: cfg.volumeClaim } }] } : {}),
        },
      },
    },
  };
}

/** kubectl with `args`, or null when kubectl is not on PATH. */
function kubectl(args: string[]): { status: number; stdout: string; stderr: string } | null {
  const r = spawnSync('kubectl', args, { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
  if (r.error) throw new KitError(`--launcher k8s: kubectl could not run (${r.error.message})`);
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Whether the Job is still active (not Complete, not Failed), per `kubectl get job`; false when it is gone. */
function jobActive(sub: K8sSubmission): boolean {
  const r = kubectl(['get', 'job', sub.name, ...(sub.namespace ? ['-n', sub.namespace] : []), '-o', 'json']);
  if (!r || r.status !== 0) return false;
  try {
    const conditions = (JSON.parse(r.stdout).status?.conditions ?? []) as { type: string; status: string }[];
    return !conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  } catch {
    return false;
  }
}

export class K8sLauncher implements Launcher {
  readonly name = 'k8s' as const;
  constructor(
    private cfg: K8sConfig,
    private opts: { detach: boolean; dryRun: boolean; print: (text: string) => void },
  ) {}

  async launch(jobs: Job[], o: LaunchOptions): Promise<LaunchOutcome> {
    if (jobs.length === 0) return { settled: true, pending: [], failed: [], runs: [], session: { launcher: 'k8s' } };
    const dir = path.resolve(o.out, 'k8s');
    const ledgerFile = path.join(dir, 'submissions.json');
    const ledger: K8sSubmission[] = fs.existsSync(ledgerFile) ? readLedger(ledgerFile) : [];
    const name = k8sJobName(o.label, o.out, ledger.length + 1);
    const manifest = k8sManifest(jobs, this.cfg, { name, width: o.width, label: o.label });
    const text = JSON.stringify(manifest, null, 2) + '\n';
    const pending = jobs.map((j) => j.name);
    if (this.opts.dryRun) {
      this.opts.print(text);
      o.log(`--dry-run: the Indexed Job above (${jobs.length} index${jobs.length === 1 ? '' : 'es'}) was not applied`);
      return { settled: false, pending, failed: [], runs: [], session: { launcher: 'k8s', dry_run: true } };
    }
    const last = ledger[ledger.length - 1];
    if (last && last.runs.some((r) => jobs.some((j) => jobKey(j) === r)) && jobActive(last)) {
      o.log(`Kubernetes Job ${last.name} is still active; run the same command again when it has ended (the runs' state is read from their folders)`);
      return { settled: false, pending, failed: [], runs: [], session: { launcher: 'k8s', job: last.name } };
    }
    if (!this.cfg.image)
      throw new KitError(
        '--launcher k8s: no image: give --image (or k8s.image in --launcher-config), an image with Node.js 20 and the kit; --dry-run prints the manifest without one',
      );
    const file = path.join(dir, `job-${ledger.length + 1}.json`);
    writeJsonAtomic(file, manifest);
    const r = kubectl(['apply', '-f', file]);
    if (r === null) {
      o.log(
        `kubectl is not on PATH: the Indexed Job is written to ${file}; apply it with \`kubectl apply -f ${file}\` where the cluster is reachable, then run this command again to read the runs' state`,
      );
      return { settled: false, pending, failed: [], runs: [], session: { launcher: 'k8s', manifest: file } };
    }
    if (r.status !== 0) {
      fs.rmSync(file, { force: true });
      throw new KitError(
        `--launcher k8s: kubectl apply refused the Job (${r.stderr.trim().split('\n')[0] || 'no message'}); nothing was submitted and no run folder was changed`,
      );
    }
    writeJsonAtomic(ledgerFile, [
      ...ledger,
      { name, namespace: this.cfg.namespace, manifest: file, submitted: new Date().toISOString(), runs: jobs.map(jobKey) },
    ]);
    o.log(
      `applied Kubernetes Indexed Job ${name}: ${jobs.length} index${jobs.length === 1 ? '' : 'es'} (${file}); run the same command again to read their state and summarise when all are done`,
    );
    return { settled: false, pending, failed: [], runs: [], session: { launcher: 'k8s', job: name } };
  }
}

function readLedger(file: string): K8sSubmission[] {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!Array.isArray(v)) throw new Error('not an array');
    return v as K8sSubmission[];
  } catch (e) {
    throw new KitError(`${file}: the Kubernetes submission ledger cannot be read (${(e as Error).message.split('\n')[0]}); move it away to submit afresh`);
  }
}
