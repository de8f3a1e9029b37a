// The flags every command that resolves an experiment config shares (--preset, --config, --set), their usage text
// generated from the preset tables, and the one rule by which the preset is chosen; and the output rule of the study
// commands: runs/… by default, the committed results/… with --reference.
import * as path from 'node:path';
import { ConfigOverride, loadConfigFile, PRESETS, setOverrides } from '../config';
import { KitError } from '../errors';
import type { FlagSpec, FlagValues } from './args';

/** --preset, --config and --set, for parseFlags. --preset has no parser default: a config file may name the preset. */
export const CONFIG_FLAGS = {
  preset: { type: 'string' },
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
} as const satisfies FlagSpec;

/** The train presets (src/config.ts PRESETS), in the table's order. */
export const TRAIN_PRESETS: readonly string[] = Object.keys(PRESETS);

/** The kit's default preset. */
export const DEFAULT_PRESET = 'tiny';

/** `[--preset a|b|c (default: tiny)] [--config FILE] [--set key=value …]` from a preset table's names. */
export function configUsage(presets: readonly string[] = TRAIN_PRESETS, defaultPreset = DEFAULT_PRESET): string {
  return `[--preset ${presets.join('|')} (default: ${defaultPreset})] [--config FILE.yaml|FILE.json] [--set key=value …]`;
}

/** What a command resolves its configs from: the preset, the config file (if any) and the --set values, in order. */
export interface ConfigInputs {
  preset: string;
  configFile?: string;
  sets: string[];
}

/**
 * The preset, config file and --set values of a command's flags. The preset is --preset when given, else the config
 * file's `preset`, else `defaultPreset`; it must be one of `presets` (the command's preset table). The file is read
 * here, so that a file that does not parse fails before any work.
 */
export function configInputs(f: FlagValues, o: { presets?: readonly string[]; defaultPreset?: string } = {}): ConfigInputs {
  const presets = o.presets ?? TRAIN_PRESETS;
  const configFile = f.config as string | undefined;
  if (configFile === '') throw new KitError('--config needs a file name');
  const file = configFile === undefined ? undefined : loadConfigFile(configFile);
  const sets = (f.set as string[] | undefined) ?? [];
  let preset: string;
  if (typeof f.preset === 'string') {
    preset = f.preset;
    if (!presets.includes(preset)) throw new KitError(`--preset: unknown preset '${preset}'; valid: ${presets.join(', ')}`);
  } else if (file?.preset !== undefined) {
    preset = file.preset;
    if (!presets.includes(preset))
      throw new KitError(`${file.where(['preset'])}: preset '${preset}' is not one this command runs; valid: ${presets.join(', ')}`);
  } else {
    preset = o.defaultPreset ?? DEFAULT_PRESET;
  }
  return { preset, ...(configFile !== undefined ? { configFile } : {}), sets };
}

/** The --set layers of `inputs` (for resolveConfig's overrides). */
export function setLayers(inputs: ConfigInputs): ConfigOverride[] {
  return setOverrides(inputs.sets);
}

/** `--config FILE` (when given), to pass on to a child `introllm` command. */
export function configArgs(configFile: string | undefined): string[] {
  return configFile === undefined ? [] : ['--config', configFile];
}

// ── The study commands' output rule ────────────────────────────────────────────────────────────────────────────────

/** --out and --reference, for parseFlags. */
export const STUDY_OUT_FLAGS = { out: { type: 'string' }, reference: { type: 'boolean', default: false } } as const satisfies FlagSpec;

/** The usage of --out / --reference for a study whose folder is `rel` under runs/ or results/. */
export function studyOutUsage(rel: string): string {
  return `[--out DIR | --reference] (default: runs/${rel}; --reference: the committed results/${rel})`;
}

/**
 * Where a study writes: `--out` when given; else the committed reference `results/<rel>` with --reference; else the
 * git-ignored `runs/<rel>` (a user's run never overwrites the committed results by default).
 */
export function studyOutDir(o: { out?: string; reference?: boolean }, rel: string): string {
  if (o.reference && o.out !== undefined) throw new KitError(`--reference writes the committed results/${rel}/; give either it or --out, not both`);
  if (o.out !== undefined) {
    if (o.out === '') throw new KitError('--out needs a folder name');
    return o.out;
  }
  return path.join(o.reference ? 'results' : 'runs', rel);
}

/** studyOutDir from parsed flags. */
export function studyOutFromFlags(f: FlagValues, rel: string): string {
  return studyOutDir({ out: f.out as string | undefined, reference: f.reference === true }, rel);
}
