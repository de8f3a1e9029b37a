// The headroom figure (`introllm headroom`, src/experiments/headroom.ts): every method's Avg@k difference to the best
// fixed τ on the validation split, with its paired-bootstrap 95% CI over problems, one color per kind (fixed τ,
// baseline, probe). A bar whose whole whisker sits right of 0 beats the best fixed τ.
import { errorBars } from './accuracy';
import { axis, baseLayout, num } from './style';
import type { Figure, PlotTrace } from './types';

interface Row {
  accuracy: number;
  ci95: [number, number];
  diff_vs_best_fixed: { diff: number; ci95: [number, number] } | null;
}

/** What the figure reads from a headroom summary.json. */
export interface HeadroomFigureInput {
  best_fixed: string;
  k: number;
  problems: number;
  fixed: Record<string, Row>;
  baselines: Record<string, Row>;
  probes: Record<string, Row>;
}

const KINDS = [
  { kind: 'fixed', label: 'fixed τ', color: '#1f77b4', name: (k: string) => `fixed-${k}` },
  { kind: 'baselines', label: 'baseline', color: '#ff7f0e', name: (k: string) => k },
  { kind: 'probes', label: 'probe', color: '#2ca02c', name: (k: string) => `probe-${k}` },
] as const;

/** Horizontal bars: Δ accuracy (points) vs the best fixed τ per method, with paired 95% CIs, and a line at 0. */
export function headroomFigure(s: HeadroomFigureInput): Figure {
  const data: PlotTrace[] = [];
  for (const { kind, label, color, name } of KINDS) {
    const rows = Object.entries(s[kind]).filter(([, r]) => r.diff_vs_best_fixed !== null);
    if (rows.length === 0) continue;
    const d = rows.map(([, r]) => 100 * r.diff_vs_best_fixed!.diff);
    const cis = rows.map(([, r]) => r.diff_vs_best_fixed!.ci95.map((x) => 100 * x) as [number, number]);
    data.push({
      type: 'bar',
      orientation: 'h',
      name: label,
      y: rows.map(([k]) => name(k)),
      x: d.map(num),
      marker: { color },
      error_x: errorBars(d, cis),
      hovertemplate: '%{y}: %{x:.1f} points<extra></extra>',
    });
  }
  const n = data.reduce((acc, t) => acc + (t.y?.length ?? 0), 0);
  return {
    data,
    layout: baseLayout(`Accuracy difference to the best fixed τ (${s.best_fixed}), Avg@${s.k} on ${s.problems} validation problems (paired 95% CI)`, {
      xaxis: axis('Δ accuracy vs best fixed τ (points)', { zeroline: true, zerolinewidth: 2, zerolinecolor: '#444' }),
      yaxis: axis('', { autorange: 'reversed', automargin: true }),
      width: 900,
      height: Math.max(360, 60 + 28 * n),
      showlegend: true,
    }),
  };
}
