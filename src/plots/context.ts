// What every results figure says about where its numbers come from: the testbed (task and model), and n (held-out
// problems × samples per problem, seeds). A figure that names these reads on its own, without the folder it came from
// (a preset name such as "tiny" says nothing once the presets change). Pure formatting; the kit's readers
// (src/experiments/figure-context.ts) fill it from a run's config.json and its model folder.

/** Where a figure's numbers come from. Every field is optional: a figure names what it knows. */
export interface FigureContext {
  /** The task (e.g. 'guess', 'countdown'). */
  task?: string;
  /** Parameters of the model, and whether it is the kit's SFT model (made by `introllm sft`). */
  params?: number;
  sft?: boolean;
  /** The model folder's name, used when the parameter count is unknown. */
  model?: string;
  /** Held-out problems per seed, samples per problem (k), and the sampling / training seeds. */
  problems?: number;
  k?: number;
  seeds?: readonly number[];
}

/** A parameter count as people say it: 412k, 1.7M, 0.6B (three significant digits at most, no trailing zeros). */
export function formatParams(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const [div, unit] = n >= 1e9 ? [1e9, 'B'] : n >= 1e6 ? [1e6, 'M'] : n >= 1e3 ? [1e3, 'k'] : [1, ''];
  const v = n / div;
  return `${Number(v.toPrecision(v >= 100 ? 3 : 2))}${unit}`;
}

/** "guess testbed, 412k-param SFT model" (the parts that are known; '' when none is). */
export function testbedLabel(c: FigureContext): string {
  const model = c.params !== undefined ? `${formatParams(c.params)}-param ${c.sft ? 'SFT ' : ''}model` : c.model ? `model ${c.model}` : '';
  return [c.task ? `${c.task} testbed` : '', model].filter(Boolean).join(', ');
}

/** "400 problems × 4 samples, 3 seeds" (the parts that are known; '' when none is). */
export function sampleLabel(c: FigureContext): string {
  const per = c.problems !== undefined ? `${c.problems} problems${c.k !== undefined ? ` × ${c.k} sample${c.k === 1 ? '' : 's'}` : ''}` : '';
  const seeds = c.seeds?.length ? `${c.seeds.length} seed${c.seeds.length === 1 ? '' : 's'}` : '';
  return [per, seeds].filter(Boolean).join(', ');
}

/** The testbed and n on one line, for a figure's subtitle: "guess testbed, 412k-param SFT model · 400 problems × 4 samples, 3 seeds". */
export function contextLine(c: FigureContext | undefined): string {
  return c ? [testbedLabel(c), sampleLabel(c)].filter(Boolean).join(' · ') : '';
}

/** A fraction as a percentage: 0.221 → 22.1 (NaN stays NaN). */
export function toPercent(x: number): number {
  return 100 * x;
}

/** An interval of fractions as percentages; a missing interval stays null. */
export function toPercentCi(ci: readonly [number, number] | null | undefined): [number, number] | null {
  return ci ? [100 * ci[0], 100 * ci[1]] : null;
}
