// The known-answer figure (`introllm known-answer`, src/experiments/known-answer.ts): the temperature head's mean τ on
// each token class over training, one line per seed, with each class's closed-form optimum as a dashed line and the
// measured start and end (95% CI) at the ends. A head that learns the rule draws each class's lines to its own optimum.
import { axis, baseLayout, titleText } from './style';
import type { Figure, PlotTrace } from './types';

const CLASS_COLORS = ['#1f77b4', '#d62728', '#2ca02c'];

/** What the figure reads from the study's summary. */
export interface KnownAnswerFigureInput {
  rule: Record<string, number>;
  positions: number;
  seeds: Record<
    string,
    { classes: Record<string, { start: { mean_tau: number; ci95: [number, number] }; end: { mean_tau: number; ci95: [number, number] } }> }
  >;
  budget: { phi_updates: number };
  measurement: { problems: number; k: number };
}

export function knownAnswerFigure(s: KnownAnswerFigureInput, curves: { seed: number; metrics: Record<string, number>[] }[]): Figure {
  const data: PlotTrace[] = [];
  const classes = Object.keys(s.rule);
  const steps = Math.max(1, ...curves.flatMap((c) => c.metrics.map((m) => m.step)));
  classes.forEach((c, k) => {
    const color = CLASS_COLORS[k % CLASS_COLORS.length];
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: `class ${c}: τ* = ${s.rule[c]}`,
      x: [0, steps],
      y: [s.rule[c], s.rule[c]],
      line: { color, dash: 'dash', width: 2 },
      hoverinfo: 'skip',
    });
    curves.forEach(({ seed, metrics }, i) => {
      const pts = metrics.filter((m) => typeof m[`tau_class/${c}`] === 'number');
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `class ${c}, each seed (rollout mean)`,
        legendgroup: `class-${c}`,
        showlegend: i === 0,
        x: pts.map((m) => m.step),
        y: pts.map((m) => m[`tau_class/${c}`]),
        line: { color, width: 1 },
        opacity: 0.7,
        hovertemplate: `class ${c}, seed ${seed}, step %{x}: τ %{y:.2f}<extra></extra>`,
      });
      const r = s.seeds[String(seed)]?.classes[c];
      if (!r) return;
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: `class ${c}: measured start / end (95% CI)`,
        legendgroup: `class-${c}-m`,
        showlegend: i === 0,
        x: [0, steps],
        y: [r.start.mean_tau, r.end.mean_tau],
        marker: { color, size: 8, symbol: 'diamond' },
        error_y: {
          type: 'data',
          symmetric: false,
          array: [r.start.ci95[1] - r.start.mean_tau, r.end.ci95[1] - r.end.mean_tau],
          arrayminus: [r.start.mean_tau - r.start.ci95[0], r.end.mean_tau - r.end.ci95[0]],
          color,
        },
        hovertemplate: `class ${c}, seed ${seed}: τ %{y:.3f}<extra></extra>`,
      });
    });
  });
  const rule = classes.map((c) => `${c} → ${s.rule[c]}`).join(', ');
  return {
    data,
    layout: baseLayout(
      titleText(
        `Known-answer task: the head's τ per token class (rule ${rule})`,
        `constructed bigram model, ${s.positions} graded positions; φ only, ${s.budget.phi_updates} updates; ${curves.length} seeds; ends measured on ${s.measurement.problems} test problems × ${s.measurement.k}`,
      ),
      {
        xaxis: axis('RL step'),
        yaxis: axis("mean τ on the class's tokens"),
        width: 900,
        height: 520,
        showlegend: true,
      },
    ),
  };
}
