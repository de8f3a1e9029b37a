// Flag parsing shared by the commands: node:util parseArgs in strict mode (unknown flags are errors), plus typed
// accessors whose errors name the flag.
import { parseArgs } from 'node:util';
import { KitError } from '../errors';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; default?: string | boolean }>;

export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function parseFlags(argv: string[], spec: FlagSpec): FlagValues {
  return parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values as FlagValues;
}

export function requireFlag(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new KitError(`--${name} is required`);
  return v;
}

export function intFlag(values: Record<string, unknown>, name: string, fallback: number, min = 1): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new KitError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function intListFlag(values: Record<string, unknown>, name: string): number[] {
  const v = requireFlag(values, name);
  return v.split(',').map((s, i) => {
    const n = Number(s.trim());
    if (s.trim() === '' || !Number.isInteger(n) || n < 0) throw new KitError(`--${name}: item ${i + 1} ('${s}') is not a non-negative integer`);
    return n;
  });
}
