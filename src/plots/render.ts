// Writing figures (the last box of the kit's flow: summary.json → figures). HTML is always written: a self-contained
// file that inlines plotly.js-dist-min, so it opens offline, years later. PNG is optional: it needs a Chromium
// binary (Debian's `chromium`, or the path in INTROLLM_CHROMIUM) driven by playwright-core; without one, renderPng
// reports why it skipped instead of throwing, and the HTML files remain the figures. All writes are atomic.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import type { Figure } from './types';

let plotlyCache: string | null = null;

/** The plotly.js-dist-min bundle's source, read once from node_modules; '</script' is neutralised for inlining. */
export function plotlyScript(): string {
  if (plotlyCache === null) {
    let file: string;
    try {
      file = require.resolve('plotly.js-dist-min');
    } catch {
      throw new KitError('plotly.js-dist-min is not installed (it is a dependency of the kit: run npm install)');
    }
    plotlyCache = fs.readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
  }
  return plotlyCache;
}

/** JSON safe inside a <script> element: no '<' (so no '</script>' or '<!--'), no U+2028/U+2029. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The complete HTML document of one figure (pure apart from reading the plotly bundle once). */
export function figureHtml(fig: Figure, title: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<script>${plotlyScript()}</script>`,
    '</head>',
    '<body style="margin:0;background:white">',
    '<div id="figure"></div>',
    `<script id="figure-data" type="application/json">${scriptJson(fig)}</script>`,
    '<script>',
    'const fig = JSON.parse(document.getElementById("figure-data").textContent);',
    'Plotly.newPlot("figure", fig.data, fig.layout, { displaylogo: false, responsive: true });',
    '</script>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Writes `fig` as a self-contained HTML file (plotly inlined, works offline). */
export function writeFigureHtml(file: string, fig: Figure, title: string): void {
  writeFileAtomic(file, figureHtml(fig, title));
}

export interface PngOptions {
  /** Chromium binary (default: env INTROLLM_CHROMIUM, else /usr/bin/chromium). */
  executablePath?: string;
  /** Size used when a figure's layout sets none (default 1000 × 600). */
  width?: number;
  height?: number;
  /** Device pixel ratio of the PNG (default 2). */
  scale?: number;
  /** Browser start timeout in ms (default 30000). */
  timeoutMs?: number;
}

export interface PngResult {
  /** PNG files written, in input order. */
  rendered: string[];
  /** Why nothing was rendered (no chromium, no playwright-core, browser did not start); null when rendering ran. */
  skipped: string | null;
}

export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface PageLike {
  setContent(html: string): Promise<void>;
  addScriptTag(o: { content: string }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}
interface BrowserLike { newPage(): Promise<PageLike>; close(): Promise<void> }
interface PlaywrightLike { chromium: { launch(o: { executablePath: string; args: string[]; headless: boolean; timeout: number }): Promise<BrowserLike> } }

/** The Chromium binary renderPng would use, or null with the reason. */
export function findChromium(explicit?: string): { path: string | null; reason: string | null } {
  const exe = explicit ?? process.env.INTROLLM_CHROMIUM ?? '/usr/bin/chromium';
  try {
    fs.accessSync(exe, fs.constants.X_OK);
    return { path: exe, reason: null };
  } catch {
    return { path: null, reason: `no chromium executable at ${exe} (install Debian's chromium or set INTROLLM_CHROMIUM); PNG rendering skipped, HTML only` };
  }
}

interface RenderArgs { data: unknown; layout: Record<string, unknown>; width: number; height: number; scale: number }

/** Runs in the page: draws the figure off-screen and returns a PNG data URL. */
async function drawInPage(a: RenderArgs): Promise<string> {
  const P = (window as unknown as { Plotly: { newPlot(d: HTMLElement, data: unknown, layout: unknown, cfg: unknown): Promise<HTMLElement>; toImage(d: HTMLElement, o: unknown): Promise<string>; purge(d: HTMLElement): void } }).Plotly;
  const div = document.createElement('div');
  document.body.appendChild(div);
  try {
    await P.newPlot(div, a.data, a.layout, { staticPlot: true });
    return await P.toImage(div, { format: 'png', width: a.width, height: a.height, scale: a.scale });
  } finally {
    P.purge(div);
    div.remove();
  }
}

/**
 * Renders each figure to a PNG at `file` with Plotly.toImage, all in one browser session. Returns `skipped` with the
 * reason (and renders nothing) when no Chromium binary is found, playwright-core is missing or the browser does not
 * start; errors while drawing a figure are real errors and are thrown.
 */
export async function renderPng(figs: readonly { file: string; fig: Figure }[], opts: PngOptions = {}): Promise<PngResult> {
  if (figs.length === 0) return { rendered: [], skipped: null };
  const exe = findChromium(opts.executablePath);
  if (exe.path === null) return { rendered: [], skipped: exe.reason };
  let pw: PlaywrightLike;
  try {
    pw = require('playwright-core') as PlaywrightLike;
  } catch {
    return { rendered: [], skipped: 'playwright-core (an optional dependency) is not installed; PNG rendering skipped, HTML only' };
  }
  let browser: BrowserLike;
  try {
    browser = await pw.chromium.launch({ executablePath: exe.path, args: CHROMIUM_FLAGS, headless: true, timeout: opts.timeoutMs ?? 30_000 });
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return { rendered: [], skipped: `chromium at ${exe.path} did not start (${msg}); PNG rendering skipped, HTML only` };
  }
  const rendered: string[] = [];
  try {
    const page = await browser.newPage();
    await page.setContent('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0;background:white"></body></html>');
    await page.addScriptTag({ content: plotlyScript() });
    for (const { file, fig } of figs) {
      const width = typeof fig.layout.width === 'number' ? fig.layout.width : opts.width ?? 1000;
      const height = typeof fig.layout.height === 'number' ? fig.layout.height : opts.height ?? 600;
      const url = await page.evaluate(drawInPage, { data: fig.data, layout: fig.layout, width, height, scale: opts.scale ?? 2 });
      const prefix = 'data:image/png;base64,';
      if (!url.startsWith(prefix)) throw new KitError(`renderPng: plotly returned no PNG for ${file}`);
      writeFileAtomic(file, Buffer.from(url.slice(prefix.length), 'base64'));
      rendered.push(file);
    }
  } finally {
    await browser.close();
  }
  return { rendered, skipped: null };
}

export interface NamedFigure {
  /** File name without extension, e.g. 'training-reward'. */
  name: string;
  title: string;
  fig: Figure;
}

/**
 * Writes `<dir>/<name>.html` for every figure and, unless `png` is false, tries `<dir>/<name>.png` in one browser
 * session. Returns the HTML files and the PNG result (with the skip reason when no browser is available).
 */
export async function writeFigures(dir: string, figs: readonly NamedFigure[], png: boolean | PngOptions = true): Promise<{ html: string[]; png: PngResult }> {
  const names = new Set<string>();
  for (const f of figs) {
    if (!/^[\w.-]+$/.test(f.name)) throw new KitError(`figure name '${f.name}' must use letters, digits, '.', '_' or '-' only`);
    if (names.has(f.name)) throw new KitError(`figure name '${f.name}' is used twice`);
    names.add(f.name);
  }
  const html = figs.map((f) => {
    const file = path.join(dir, `${f.name}.html`);
    writeFigureHtml(file, f.fig, f.title);
    return file;
  });
  const result = png === false
    ? { rendered: [], skipped: 'PNG rendering not requested' }
    : await renderPng(figs.map((f) => ({ file: path.join(dir, `${f.name}.png`), fig: f.fig })), png === true ? {} : png);
  return { html, png: result };
}

/**
 * One self-contained HTML page holding several figures (plotly inlined once, ~5 MB instead of ~5 MB per figure), with
 * optional raw HTML sections (e.g. tokensToHtml snippets) after them.
 */
export function galleryHtml(figs: readonly { title: string; fig: Figure }[], pageTitle: string, extraHtml: readonly { title: string; html: string }[] = []): string {
  const blocks = figs.map((f, i) => [
    `<h2>${escapeHtml(f.title)}</h2>`,
    `<div id="fig${i}"></div>`,
    `<script id="fig${i}-data" type="application/json">${scriptJson(f.fig)}</script>`,
  ].join('\n'));
  return [
    '<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', `<title>${escapeHtml(pageTitle)}</title>`,
    `<script>${plotlyScript()}</script>`, '</head>', '<body style="margin:1em;background:white;font-family:sans-serif">',
    `<h1>${escapeHtml(pageTitle)}</h1>`, ...blocks,
    ...extraHtml.map((x) => `<h2>${escapeHtml(x.title)}</h2>\n${x.html}`),
    '<script>',
    `for (let i = 0; i < ${figs.length}; i++) {`,
    '  const fig = JSON.parse(document.getElementById(`fig${i}-data`).textContent);',
    '  Plotly.newPlot(`fig${i}`, fig.data, fig.layout, { displaylogo: false, responsive: true });',
    '}',
    '</script>', '</body>', '</html>', '',
  ].join('\n');
}
