// The instruments study's figures (`introllm instruments`, src/experiments/instruments.ts): one per part. The bar
// figures show each row's paired difference (points) to the part's reference with its 95% CI and a line at 0, so a bar
// whose whisker stays right of 0 beats the reference; the signal-to-noise figure shows the φ gradient's half-batch
// cosine over training on the testbed and on the known-answer task.
import { errorBars } from './accuracy';
import { axis, baseLayout, num, titleText } from './style';
import type { Figure, MetricsRecord, PlotTrace } from './types';

/** One bar: a label and its paired difference (a fraction, shown in points) with its 95% CI; null = the reference. */
export interface DeltaRow {
  label: string;
  diff: { diff: number; ci95: [number, number] } | null;
}

/** Horizontal bars of paired differences (points) to a reference, with 95% CIs and a line at 0. */
export function deltaBarsFigure(title: string, detail: string, reference: string, rows: readonly DeltaRow[]): Figure {
  const shown = rows.filter((r) => r.diff !== null);
  const d = shown.map((r) => 100 * r.diff!.diff);
  const cis = shown.map((r) => r.diff!.ci95.map((x) => 100 * x) as [number, number]);
  const data: PlotTrace[] = [
    {
      type: 'bar',
      orientation: 'h',
      y: shown.map((r) => r.label),
      x: d.map(num),
      marker: { color: '#1f77b4' },
      error_x: errorBars(d, cis),
      hovertemplate: '%{y}: %{x:.1f} points<extra></extra>',
      name: `Δ vs ${reference}`,
    },
  ];
  return {
    data,
    layout: baseLayout(titleText(title, detail), {
      xaxis: axis(`Δ accuracy vs ${reference} (points, paired 95% CI)`, { zeroline: true, zerolinewidth: 2, zerolinecolor: '#444' }),
      yaxis: axis('', { autorange: 'reversed', automargin: true }),
      width: 900,
      height: Math.max(320, 110 + 40 * shown.length),
      showlegend: false,
    }),
  };
}

/** The φ gradient's half-batch cosine per step, one line per run, grouped by testbed. */
export function phiSnrFigure(curves: readonly { testbed: string; seed: number; metrics: readonly MetricsRecord[] }[]): Figure {
  const colors: Record<string, string> = {};
  const palette = ['#d62728', '#1f77b4', '#2ca02c'];
  const data: PlotTrace[] = curves.map((c, i) => {
    colors[c.testbed] ??= palette[Object.keys(colors).length % palette.length];
    const pts = c.metrics.filter((m) => typeof m['diag/phi_half_cosine'] === 'number');
    return {
      type: 'scatter',
      mode: 'lines',
      name: `${c.testbed}`,
      legendgroup: c.testbed,
      showlegend: curves.findIndex((x) => x.testbed === c.testbed) === i,
      x: pts.map((m) => m.step),
      y: pts.map((m) => m['diag/phi_half_cosine'] as number),
      line: { color: colors[c.testbed], width: 1 },
      opacity: 0.75,
      hovertemplate: `${c.testbed}, seed ${c.seed}, step %{x}: cos %{y:.2f}<extra></extra>`,
    };
  });
  return {
    data,
    layout: baseLayout(
      titleText(
        "The temperature loss's gradient: cosine between the φ gradients of two halves of each batch",
        '≈ 0: the halves disagree (noise); → 1: both point the same way (signal). One line per seed.',
      ),
      {
        xaxis: axis('RL step'),
        yaxis: axis('half-batch cosine', { range: [-1, 1], zeroline: true }),
        width: 900,
        height: 480,
        showlegend: true,
      },
    ),
  };
}
