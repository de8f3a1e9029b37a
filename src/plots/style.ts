// Shared look of the figures: one fixed color per method (the same in every figure, so IntroLLM and each baseline
// can be followed across the training curves, the bars and the τ views), the τ colorscale used by the token heatmap
// and the HTML token view, and small layout helpers. Pure data; no plotly code runs here.
import { hashString } from '../rng';

const KNOWN: Record<string, string> = {
  introllm: '#d62728',
  'fixed-0.6': '#1f77b4',
  'fixed-1.0': '#17becf',
  'fixed-1.2': '#9edae5',
  edt: '#2ca02c',
  ead: '#ff7f0e',
  tampo: '#9467bd',
};

const PALETTE = ['#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd'];

/** The color of a method: fixed for the kit's method names, otherwise picked from a palette by a hash of the name. */
export function methodColor(method: string): string {
  return KNOWN[method] ?? PALETTE[hashString(method) % PALETTE.length];
}

/** '#rrggbb' → 'rgba(r,g,b,alpha)' (for bands). */
export function withAlpha(hex: string, alpha: number): string {
  const v = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
}

/** Diverging τ colorscale, light at both ends so text on top stays readable: low τ blue, middle white, high τ red. */
export const TAU_COLORSCALE: [number, string][] = [
  [0, 'rgb(103,169,207)'],
  [0.5, 'rgb(247,247,247)'],
  [1, 'rgb(239,138,98)'],
];

const STOPS: [number, [number, number, number]][] = [
  [0, [103, 169, 207]],
  [0.5, [247, 247, 247]],
  [1, [239, 138, 98]],
];

/** The TAU_COLORSCALE color of `tau` on [lo, hi] (clamped), as 'rgb(r,g,b)'. A degenerate range maps to the middle. */
export function tauColor(tau: number, lo: number, hi: number): string {
  const f = hi > lo ? Math.min(1, Math.max(0, (tau - lo) / (hi - lo))) : 0.5;
  const k = f <= 0.5 ? 0 : 1;
  const [f0, c0] = STOPS[k];
  const [f1, c1] = STOPS[k + 1];
  const u = (f - f0) / (f1 - f0);
  const c = c0.map((a, i) => Math.round(a + (c1[i] - a) * u));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** A title with optional smaller lines under it (keeps long explanations from being clipped); empty lines are left out. */
export function titleText(main: string, ...details: (string | undefined)[]): string {
  return [main, ...details.filter((d): d is string => !!d).map((d) => `<sup>${d}</sup>`)].join('<br>');
}

/** The top margin a titleText needs so that its last line stays above the plot (about 30 px a line). */
export function titleMargin(title: string): number {
  return Math.max(60, 44 + 30 * (title.split('<br>').length - 1));
}

/** The common layout of every figure: white template, a title, legend on the right. */
export function baseLayout(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: { text: title },
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    font: { family: 'Helvetica, Arial, sans-serif', size: 13 },
    margin: { l: 70, r: 30, t: 60, b: 60 },
    ...extra,
  };
}

/** An axis with light grid lines and a title. */
export function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: { text: title }, showgrid: true, gridcolor: '#e5e5e5', zeroline: false, linecolor: '#444', ...extra };
}

/** Finite number or null (plotly draws a gap for null; JSON has no NaN). */
export function num(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Text safe inside HTML element content and double-quoted attributes (the HTML views, tables and figure pages). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
