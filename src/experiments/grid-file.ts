// A grid of variants defined in a file (`introllm ablate --grid-file F`, `introllm select --grid-file F`), JSON or YAML:
//
//   name: lr-temp-wide                 # the grid's folder name (not a built-in grid's)
//   description: Temperature-head learning rate, wider
//   variants:
//     - label: lr-temp-1e-3            # the variant's folder and table name, unique in the grid
//       method: introllm               # optional, default introllm
//       set: [optim.lrTemp=1e-3]       # `key=value` overrides, as --set takes them
//
// plus the keys of the grid's kind (an ablation grid: `default`, the label every variant is paired with; a selection
// grid: `chooses`, the config keys it chooses, and `evaluationOnly`). Every variant's config is resolved when the file
// is read, so a duplicate label, an unknown key or a bad value fails at once, naming the file, the line and the variant.
import { ConfigOverride, parseSetting, resolveConfig, setOverrides } from '../config';
import { KitError } from '../errors';
import { DataFile, readDataFile } from '../io/data-file';
import { methodOverride } from './methods';
import type { Variant } from './reproduce';

/** A grid as read from a file: its name, description, variants, and the kind-specific keys it has. */
export interface GridFile {
  file: string;
  name: string;
  description: string;
  variants: Variant[];
  /** The kind-specific keys, checked by type. */
  extra: Record<string, unknown>;
  where: DataFile['where'];
}

export interface GridFileOptions {
  /** 'ablation' or 'selection', for messages. */
  kind: string;
  /** The built-in grids' names, which a file grid may not take. */
  builtins: readonly string[];
  /** The kind-specific top-level keys and their types. */
  extraKeys: Record<string, 'string' | 'boolean' | 'string[]'>;
  /** What every variant's config is resolved against (the study's train preset, config file and --set values). */
  preset?: string;
  configFile?: string;
  sets?: readonly string[];
  /** Layers after each variant's own --set values (e.g. selection's validation split). */
  after?: ConfigOverride[];
  /** Resolve every variant's config (default true; false for a grid a finished study folder recorded). */
  resolve?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const VARIANT_KEYS = ['label', 'method', 'set'];

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads, checks and resolves a grid file (see the top of this file). */
export function readGridFile(file: string, o: GridFileOptions): GridFile {
  const f = readDataFile(file, `${o.kind} grid file`);
  const at = f.where;
  const top = f.data;
  if (!isObject(top)) throw new KitError(`${file}: a grid file holds a mapping with name, description and variants, got ${typeName(top)}`);
  const allowed = ['name', 'description', 'variants', ...Object.keys(o.extraKeys)];
  for (const k of Object.keys(top)) {
    if (!allowed.includes(k)) throw new KitError(`${at([k])}: unknown key '${k}' in ${o.kind} grid file; valid keys: ${allowed.join(', ')}`);
  }
  const { name, description, variants } = top;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new KitError(`${at(['name'])}: 'name' must be a folder name (letters, digits, '.', '_', '-'), got ${JSON.stringify(name ?? null)}`);
  }
  if (o.builtins.includes(name)) throw new KitError(`${at(['name'])}: '${name}' is a built-in ${o.kind} grid; give the file's grid another name`);
  if (typeof description !== 'string' || description.trim() === '') throw new KitError(`${at(['description'])}: 'description' must be a non-empty string`);
  if (!Array.isArray(variants) || variants.length === 0) throw new KitError(`${at(['variants'])}: 'variants' must be a non-empty list`);
  const extra: Record<string, unknown> = {};
  for (const [k, type] of Object.entries(o.extraKeys)) {
    const v = top[k];
    if (v === undefined) continue;
    const ok = type === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string') : typeof v === type;
    if (!ok)
      throw new KitError(`${at([k])}: '${k}' must be ${type === 'string[]' ? 'a list of strings' : `a ${type}`}, got ${typeName(v)} ${JSON.stringify(v)}`);
    extra[k] = v;
  }

  const seen = new Map<string, number>();
  const out: Variant[] = variants.map((raw, i): Variant => {
    const vAt = (...p: (string | number)[]) => at(['variants', i, ...p]);
    if (!isObject(raw)) throw new KitError(`${vAt()}: variant ${i + 1} must be a mapping with label, method and set, got ${typeName(raw)}`);
    const { label, method = 'introllm', set = [] } = raw;
    if (typeof label !== 'string' || !NAME.test(label)) {
      throw new KitError(
        `${vAt('label')}: variant ${i + 1}: 'label' must be a folder name (letters, digits, '.', '_', '-'), got ${JSON.stringify(label ?? null)}`,
      );
    }
    const who = `variant '${label}'`;
    for (const k of Object.keys(raw)) {
      if (!VARIANT_KEYS.includes(k)) throw new KitError(`${vAt(k)}: ${who}: unknown key '${k}'; valid keys: ${VARIANT_KEYS.join(', ')}`);
    }
    if (seen.has(label)) throw new KitError(`${vAt('label')}: ${who} appears twice (variant ${seen.get(label)! + 1} has the same label)`);
    seen.set(label, i);
    if (typeof method !== 'string') throw new KitError(`${vAt('method')}: ${who}: 'method' must be a string, got ${typeName(method)}`);
    try {
      methodOverride(method);
    } catch (e) {
      throw new KitError(`${vAt('method')}: ${who}: ${(e as Error).message}`);
    }
    if (!Array.isArray(set) || !set.every((s) => typeof s === 'string')) {
      throw new KitError(`${vAt('set')}: ${who}: 'set' must be a list of "key=value" strings, got ${JSON.stringify(set)}`);
    }
    set.forEach((s, j) => {
      try {
        parseSetting(s);
      } catch (e) {
        throw new KitError(`${vAt('set', j)}: ${who}: ${(e as Error).message}`);
      }
    });
    return { label, method, sets: set as string[] };
  });

  // Each variant's config, resolved as the study will resolve it: an unknown key or a bad value names its line.
  if (o.resolve !== false) {
    out.forEach((v, i) => {
      try {
        resolveConfig({
          preset: o.preset,
          configFile: o.configFile,
          overrides: [
            { source: `method ${v.method}`, kind: 'method', value: methodOverride(v.method) },
            ...setOverrides(o.sets ?? []),
            ...setOverrides(v.sets),
            ...(o.after ?? []),
          ],
        });
      } catch (e) {
        if (!(e instanceof KitError)) throw e;
        const message = e.message;
        const j = v.sets.findIndex((s) => message.startsWith(`--set ${s}:`));
        throw new KitError(`${at(j >= 0 ? ['variants', i, 'set', j] : ['variants', i])}: variant '${v.label}': ${message}`);
      }
    });
  }
  return { file, name, description, variants: out, extra, where: at };
}
