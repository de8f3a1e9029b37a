// The config a study hands to each child run: the parent resolves the run's config once (preset, config file, method,
// seed, --set) and writes it, whole, into the study folder as requests/<label>/seed-<s>.json; the child is started with
// `--config` that file and no other config flags, so it runs exactly what the parent resolved. The study folder is
// where the child writes its run anyway, so every launcher's child can read it (on a cluster it is on the shared
// storage); it is not the run folder itself, which a launcher leaves as it was when a submission is refused.
//
// The file is an ordinary config file (`introllm config --config FILE` prints it) with two reserved keys: `preset`,
// the preset the run builds on, and `sources`, where each value came from when the parent resolved it; the child
// reports those sources, naming the file (src/config.ts, resolveConfigSources).
import * as path from 'node:path';
import { ConfigSource, ResolvedConfig, resolveConfigSources } from '../config';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';

/** The folder of a study's request files. */
export const REQUESTS_DIR = 'requests';

/** The request file of a study's run (relative where `out` is, like --out). */
export function runRequestFileOf(out: string, label: string, seed: number): string {
  return path.join(out, REQUESTS_DIR, label, `seed-${seed}.json`);
}

/** Every leaf of a config (dotted key → value); arrays are leaves. */
function leaves(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([k, v]): [string, unknown][] => {
    const key = prefix + k;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? leaves(v as Record<string, unknown>, key + '.') : [[key, v]];
  });
}

/** The request file's content for a resolved config: its preset, every value, and every value's source. */
export function runRequest(r: ResolvedConfig): Record<string, unknown> {
  const config = r.config as unknown as Record<string, unknown>;
  for (const [key, v] of leaves(config)) {
    const bad = (Array.isArray(v) ? v : [v]).find((x) => typeof x === 'number' && !Number.isFinite(x));
    if (bad !== undefined) throw new KitError(`config key '${key}' is ${bad}, which a JSON config file cannot hold; give it a finite value`);
  }
  const sources: Record<string, ConfigSource> = Object.fromEntries(
    leaves(config).map(([key]) => [key, r.sources[key] ?? { kind: 'default', label: 'default' }]),
  );
  return { ...(r.preset !== undefined ? { preset: r.preset } : {}), ...config, sources };
}

/** What `introllm train --config FILE` (with no other config flags) resolves from a request file. */
export function resolveRunRequest(file: string): ResolvedConfig {
  return resolveConfigSources({ configFile: file });
}

/**
 * Writes `r` as a run's request file (atomically; the folder is made) and checks that the file resolves to exactly
 * `r.config`, as the child will resolve it. Returns the file's path.
 */
export function writeRunRequest(file: string, r: ResolvedConfig): string {
  writeJsonAtomic(file, runRequest(r));
  // Compared as the run folder compares a resumed run's config.json: as JSON text, key order included.
  const back = resolveRunRequest(file).config;
  if (JSON.stringify(back) !== JSON.stringify(r.config)) {
    throw new KitError(`${file}: resolves to a different config than the one written (${firstDifference(back, r.config) ?? "the keys' order"})`);
  }
  return file;
}

/** The first key at which two plain JSON-like values differ ('a.b: 1 ≠ 2'), or null when they are equal. */
function firstDifference(a: unknown, b: unknown, at = ''): string | null {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], at ? `${at}.${k}` : k);
      if (d !== null) return d;
    }
    return null;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? null : `${at || 'config'}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
}
