// The data the figure builders read (exactly what the kit writes: metrics.jsonl lines, summary.json, evaluation token
// traces, ablation tables) and the plotly figure spec they return. A figure is plain JSON ({data, layout}) so it can
// be written into an HTML file, rendered to PNG, shown in a notebook, or compared in a test.
import type { TokenTrace } from '../eval/evaluate';

export type { TokenTrace };

/** One line of a run's metrics.jsonl: `step` is 1-based; every other key is a namespaced metric (may be null). */
export interface MetricsRecord {
  step: number;
  phase?: 'token' | 'temperature' | 'joint' | string;
  [key: string]: number | string | null | undefined;
}

/** The metrics of one training run (one method, one seed). */
export interface RunMetrics {
  method: string;
  seed: number;
  metrics: readonly MetricsRecord[];
}

/** One method's entry in summary.json: Avg@k accuracy, Pass@k keyed by k ("4", "8"), their 95% CIs, the seeds. */
export interface MethodSummary {
  accuracy: number;
  ci95: [number, number];
  pass_at_k: Record<string, number>;
  pass_ci95?: Record<string, [number, number]>;
  seeds: number[];
  /** Runs evaluated on several benchmarks (the `paper` preset): each benchmark's accuracy and CI. */
  per_benchmark?: Record<string, { accuracy: number; ci95: [number, number] }>;
}

/** summary.json: method name ('introllm', 'fixed-0.6', 'edt', ...) → its results. Other top-level keys are ignored. */
export interface Summary {
  methods: Record<string, MethodSummary>;
  [key: string]: unknown;
}

/** One ablation grid (e.g. 'gate', 'head', 'tau-range'): a row per variant with its accuracy and 95% CI. */
export interface AblationTable {
  grid: string;
  /** The grid's default variant (the preset's configuration), which `vs_default` pairs every other variant with. */
  default_variant?: string;
  rows: {
    variant: string;
    accuracy: number;
    ci95: [number, number];
    pass_at_k?: Record<string, number>;
    pass_ci95?: Record<string, [number, number]>;
    /** This variant minus the default, paired over seeds and problems (Avg@k as a fraction; mde80: detectable at 80% power). */
    vs_default?: { diff: number; ci95: [number, number]; mde80: number };
  }[];
}

/** Token traces of one method (for the figures that compare methods). */
export interface MethodTraces {
  method: string;
  traces: readonly TokenTrace[];
}

/** One plotly trace (scatter, bar, box, heatmap): plain JSON; the fields the builders set are listed for tests. */
export interface PlotTrace {
  type: 'scatter' | 'bar' | 'box' | 'heatmap';
  name?: string;
  x?: (number | string | null)[];
  y?: (number | string | null)[];
  z?: (number | null)[][];
  [key: string]: unknown;
}

/** A plotly figure spec: `Plotly.newPlot(div, fig.data, fig.layout)`. */
export interface Figure {
  data: PlotTrace[];
  layout: Record<string, unknown>;
}
