// One completion's tokens coloured by their sampling temperature τ_t (paper, interpretability: "a prompt's tokens
// coloured by τ_t" — high τ at uncertain reasoning pivots, low τ for arithmetic, copying and the final answer).
// Two forms with the same colorscale (src/plots/style.ts, blue = low τ, red = high τ) and the same layout rule: one
// cell per generated token in reading order, a new row after every token containing a line break (the line break
// itself is shown as '↵' so its τ stays visible), rows wrapped at `maxColumns` cells. Tokens where the gate fired
// (τ was resampled, gate_t = 1) are bold.
//   tokenHeatmapFigure: a plotly heatmap with the token text drawn on each cell, hover shows t, τ, H and the gate;
//   tokensToHtml: a plain HTML snippet of <span>s with background colours, which reads far better for text.
import { KitError } from '../errors';
import { baseLayout, escapeHtml, num, TAU_COLORSCALE, tauColor, titleMargin, titleText } from './style';
import type { Figure, TokenTrace } from './types';

export interface TokenViewOptions {
  /** Colour range [τ_min, τ_max], e.g. the controller's range (default: the trace's own min and max of τ). */
  tauRange?: [number, number];
  /** Cells per row before wrapping (default 80). */
  maxColumns?: number;
  title?: string;
}

/** How a token is displayed in a cell: visible stand-ins for whitespace. */
export function visibleToken(token: string): string {
  return token.replace(/\r?\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');
}

/** The range of τ over the given traces' finite values; a constant τ gets ±0.5 around it; no values → [0, 1]. */
export function tauRangeOf(traces: readonly TokenTrace[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of traces)
    for (const v of t.tau)
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
  if (lo > hi) return [0, 1];
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** Row and column of each token under the layout rule in the file comment, and the grid size. */
export function tokenGrid(tokens: readonly string[], maxColumns = 80): { row: number[]; col: number[]; rows: number; cols: number } {
  if (!Number.isInteger(maxColumns) || maxColumns < 1) throw new KitError(`maxColumns must be a positive integer, got ${maxColumns}`);
  const row: number[] = [];
  const col: number[] = [];
  let r = 0;
  let c = 0;
  let cols = 0;
  for (const tok of tokens) {
    if (c >= maxColumns) {
      r++;
      c = 0;
    }
    row.push(r);
    col.push(c);
    c++;
    cols = Math.max(cols, c);
    const breaks = (tok.match(/\n/g) ?? []).length;
    if (breaks > 0) {
      r += breaks;
      c = 0;
    }
  }
  const rows = tokens.length === 0 ? 0 : row[row.length - 1] + 1;
  return { row, col, rows, cols };
}

function checkTrace(trace: TokenTrace): void {
  const n = trace.text.length;
  if (trace.tau.length !== n || trace.gate.length !== n || trace.entropy.length !== n) {
    throw new KitError(
      `trace ${trace.problemId}: text has ${n} tokens but tau ${trace.tau.length}, gate ${trace.gate.length}, entropy ${trace.entropy.length}`,
    );
  }
}

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/**
 * Heatmap of one trace: z[row][col] = τ of the token in that cell (null for empty cells), text = the visible token
 * (bold where the gate fired), zmin/zmax = the τ range, rows top to bottom.
 */
export function tokenHeatmapFigure(trace: TokenTrace, options: TokenViewOptions = {}): Figure {
  checkTrace(trace);
  const [lo, hi] = options.tauRange ?? tauRangeOf([trace]);
  const g = tokenGrid(trace.text, options.maxColumns ?? 80);
  const z: (number | null)[][] = Array.from({ length: g.rows }, () => new Array<number | null>(g.cols).fill(null));
  const text: string[][] = Array.from({ length: g.rows }, () => new Array<string>(g.cols).fill(''));
  const hover: string[][] = Array.from({ length: g.rows }, () => new Array<string>(g.cols).fill(''));
  trace.text.forEach((tok, t) => {
    const shown = escapeHtml(visibleToken(tok));
    z[g.row[t]][g.col[t]] = num(trace.tau[t]);
    text[g.row[t]][g.col[t]] = trace.gate[t] > 0.5 ? `<b>${shown}</b>` : shown;
    hover[g.row[t]][g.col[t]] = `t=${t} ${escapeHtml(JSON.stringify(tok))}<br>τ=${fmt(trace.tau[t])} H=${fmt(trace.entropy[t])} gate=${trace.gate[t]}`;
  });
  return {
    data: [
      {
        type: 'heatmap',
        z,
        text,
        hovertext: hover,
        hoverinfo: 'text',
        texttemplate: '%{text}',
        textfont: { family: 'DejaVu Sans Mono, Menlo, Consolas, monospace', size: 12, color: '#111' },
        x: Array.from({ length: g.cols }, (_, i) => i),
        y: Array.from({ length: g.rows }, (_, i) => i),
        zmin: lo,
        zmax: hi,
        colorscale: TAU_COLORSCALE,
        xgap: 1,
        ygap: 1,
        hoverongaps: false,
        colorbar: { title: { text: 'τ' } },
      },
    ],
    layout: baseLayout(
      options.title ?? titleText('Tokens coloured by τ_t', `${escapeHtml(trace.problemId)} · ${trace.correct ? 'correct' : 'wrong'} · bold: gate fired`),
      {
        xaxis: { visible: false, fixedrange: true },
        yaxis: { visible: false, autorange: 'reversed', fixedrange: true },
        width: Math.max(640, 140 + 16 * g.cols),
        height: Math.max(240, 120 + 22 * g.rows),
        margin: { l: 20, r: 20, t: 80, b: 20 },
      },
    ),
  };
}

/**
 * The same view as an HTML snippet (no scripts): a <div> holding a caption and one <span> per token with its τ
 * colour as background and a tooltip (t, τ, H, gate); line-break tokens show '↵' and then break the line.
 */
export function tokensToHtml(trace: TokenTrace, options: TokenViewOptions & { caption?: boolean } = {}): string {
  checkTrace(trace);
  const [lo, hi] = options.tauRange ?? tauRangeOf([trace]);
  const parts: string[] = [];
  if (options.caption ?? true) {
    parts.push(
      `<div style="margin-bottom:6px;color:#555;font-family:sans-serif">${escapeHtml(options.title ?? trace.problemId)} · ${trace.correct ? 'correct' : 'wrong'} · ` +
        `τ from <span style="background:${tauColor(lo, lo, hi)}">${fmt(lo, 2)}</span> to <span style="background:${tauColor(hi, lo, hi)}">${fmt(hi, 2)}</span> · bold: gate fired</div>`,
    );
  }
  trace.text.forEach((tok, t) => {
    const bold = trace.gate[t] > 0.5 ? ';font-weight:bold' : '';
    const tip = `t=${t} τ=${fmt(trace.tau[t])} H=${fmt(trace.entropy[t])} gate=${trace.gate[t]}`;
    const breaks = (tok.match(/\n/g) ?? []).length;
    const body = breaks > 0 ? tok.replace(/\r?\n/g, '↵') : tok;
    const bg = Number.isFinite(trace.tau[t]) ? tauColor(trace.tau[t], lo, hi) : 'transparent';
    parts.push(`<span style="background:${bg}${bold}" title="${escapeHtml(tip)}">${escapeHtml(body)}</span>${'\n'.repeat(breaks)}`);
  });
  return `<div class="introllm-tokens" style="font-family:ui-monospace,Menlo,Consolas,monospace;font-size:14px;line-height:1.7;white-space:pre-wrap">${parts.join('')}</div>`;
}

/**
 * Where the tokens of several traces go when they are stacked in one grid: each trace laid out by tokenGrid, one empty
 * row between traces. `rowOf[i][t]`, `colOf[i][t]`: the cell of token t of trace i; `firstRow[i]`: trace i's top row.
 */
export function stackedTokenGrid(
  traces: readonly (readonly string[])[],
  maxColumns = 80,
): { rowOf: number[][]; colOf: number[][]; firstRow: number[]; rows: number; cols: number } {
  const rowOf: number[][] = [];
  const colOf: number[][] = [];
  const firstRow: number[] = [];
  let top = 0;
  let cols = 0;
  traces.forEach((tokens, i) => {
    const g = tokenGrid(tokens, maxColumns);
    if (i > 0) top += 1; // the gap row
    firstRow.push(top);
    rowOf.push(g.row.map((r) => r + top));
    colOf.push(g.col);
    top += Math.max(1, g.rows);
    cols = Math.max(cols, g.cols);
  });
  return { rowOf, colOf, firstRow, rows: top, cols };
}

/**
 * Up to `count` traces for a figure: about half correct and half wrong (the first of each in input order; when one
 * kind runs short the other fills in), correct ones first. Traces without tokens are skipped.
 */
export function pickTraces(traces: readonly TokenTrace[], count: number): TokenTrace[] {
  if (!Number.isInteger(count) || count < 1) throw new KitError(`count must be a positive integer, got ${count}`);
  const ok = traces.filter((t) => t.text.length > 0);
  const right = ok.filter((t) => t.correct);
  const wrong = ok.filter((t) => !t.correct);
  let nRight = Math.min(right.length, Math.ceil(count / 2));
  const nWrong = Math.min(wrong.length, count - nRight);
  nRight = Math.min(right.length, count - nWrong);
  return [...right.slice(0, nRight), ...wrong.slice(0, nWrong)];
}

/**
 * Several completions stacked in one heatmap, each token a cell coloured by its τ on `tauRange` (default: the traces'
 * range), bold where the gate fired, each completion labelled on the left (`labels`, default "1 · correct", …).
 */
export function tauTraceFigure(
  traces: readonly TokenTrace[],
  options: TokenViewOptions & { labels?: readonly string[]; subtitle?: readonly string[] } = {},
): Figure {
  traces.forEach(checkTrace);
  const [lo, hi] = options.tauRange ?? tauRangeOf(traces);
  const g = stackedTokenGrid(
    traces.map((t) => t.text),
    options.maxColumns ?? 48,
  );
  const z: (number | null)[][] = Array.from({ length: g.rows }, () => new Array<number | null>(g.cols).fill(null));
  const text: string[][] = Array.from({ length: g.rows }, () => new Array<string>(g.cols).fill(''));
  const hover: string[][] = Array.from({ length: g.rows }, () => new Array<string>(g.cols).fill(''));
  traces.forEach((trace, i) => {
    trace.text.forEach((tok, t) => {
      const [r, c] = [g.rowOf[i][t], g.colOf[i][t]];
      const shown = escapeHtml(visibleToken(tok));
      z[r][c] = num(trace.tau[t]);
      text[r][c] = trace.gate[t] > 0.5 ? `<b>${shown}</b>` : shown;
      hover[r][c] = `t=${t} ${escapeHtml(JSON.stringify(tok))}<br>τ=${fmt(trace.tau[t])} H=${fmt(trace.entropy[t])} gate=${trace.gate[t]}`;
    });
  });
  const labels = options.labels ?? traces.map((t, i) => `${i + 1} · ${t.correct ? 'correct' : 'wrong'}`);
  const title = titleText(options.title ?? 'Tokens coloured by τ_t', ...(options.subtitle ?? []));
  return {
    data: [
      {
        type: 'heatmap',
        z,
        text,
        hovertext: hover,
        hoverinfo: 'text',
        texttemplate: '%{text}',
        textfont: { family: 'DejaVu Sans Mono, Menlo, Consolas, monospace', size: 13, color: '#111' },
        x: Array.from({ length: g.cols }, (_, i) => i),
        y: Array.from({ length: g.rows }, (_, i) => i),
        zmin: lo,
        zmax: hi,
        colorscale: TAU_COLORSCALE,
        xgap: 1,
        ygap: 1,
        hoverongaps: false,
        colorbar: { title: { text: 'τ_t' }, thickness: 14 },
      },
    ],
    layout: baseLayout(title, {
      xaxis: { visible: false, fixedrange: true },
      yaxis: { autorange: 'reversed', fixedrange: true, tickvals: g.firstRow, ticktext: labels, showgrid: false, zeroline: false, ticks: '' },
      width: Math.max(760, 220 + 19 * g.cols),
      height: Math.max(300, titleMargin(title) + 40 + 24 * g.rows),
      margin: { l: 110, r: 20, t: titleMargin(title), b: 20 },
      plot_bgcolor: 'white',
    }),
  };
}
