// Writing figures (the last box of the kit's flow: summary.json → figures). HTML is always written and opens offline.
// Where plotly.js comes from (plotlyTag): a page inside the kit's own results/ tree (the committed reference runs)
// loads the kit's installed copy, node_modules/plotly.js-dist-min/plotly.min.js, by a relative <script src>, so that
// the repository holds no 4.6 MB bundle at all (the pages work in any checkout after `npm install`; the PNG next to
// each page works without it); any other page (a user's run folder, a figure mailed on) inlines plotly.js-dist-min
// and is self-contained. INTROLLM_PLOTLY=inline forces inlining. PNG is optional: it needs a Chromium
// binary (Debian's `chromium`, or the path in INTROLLM_CHROMIUM) driven by playwright-core; without one, renderPng
// reports why it skipped instead of throwing, and the HTML files remain the figures. All writes are atomic.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { escapeHtml } from './style';
import { tokensToHtml, TokenViewOptions } from './token-view';
import type { Figure, TokenTrace } from './types';

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

/** The kit's root folder when the page at `htmlFile` lies under the kit's results/ folder, else null. */
export function kitRootOf(htmlFile: string): string | null {
  for (let dir = path.dirname(path.resolve(htmlFile)); ; dir = path.dirname(dir)) {
    if (path.basename(dir) === 'results') {
      try {
        const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(dir), 'package.json'), 'utf8')) as { name?: string };
        if (pkg.name === 'introllm-kit') return path.dirname(dir);
      } catch {
        /* not the kit's results folder; keep walking up */
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * The <script> element that gives a page at `htmlFile` plotly.js: a relative src to the kit's installed
 * node_modules/plotly.js-dist-min/plotly.min.js when kitRootOf finds the kit, else the inlined bundle. Without
 * `htmlFile` (or with INTROLLM_PLOTLY=inline) the bundle is inlined.
 */
export function plotlyTag(htmlFile?: string): string {
  const root = htmlFile && process.env.INTROLLM_PLOTLY !== 'inline' ? kitRootOf(htmlFile) : null;
  if (root === null) return `<script>${plotlyScript()}</script>`;
  const shared = path.join(root, 'node_modules', 'plotly.js-dist-min', 'plotly.min.js');
  const rel = path
    .relative(path.dirname(path.resolve(htmlFile as string)), shared)
    .split(path.sep)
    .join('/');
  return `<script src="${escapeHtml(rel)}"></script>`;
}

/** Page script that says where plotly.js was expected when it did not load (no npm install in this checkout). */
const PLOTLY_MISSING =
  'if (typeof Plotly === "undefined") document.body.insertAdjacentHTML("afterbegin", ' +
  '"<p style=\\"color:#b00\\">plotly.js did not load (this page loads the kit\'s node_modules/plotly.js-dist-min: ' +
  'run npm install in the kit, or see the PNG files next to this page).</p>");';

/** A figure's JSON for a page: non-integers at 4 significant digits (what a plot can show; pages stay small). */
export function figureJson(fig: Figure): string {
  return scriptJson(JSON.parse(JSON.stringify(fig), (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v)));
}

/** JSON safe inside a <script> element: no '<' (so no '</script>' or '<!--'), no U+2028/U+2029. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The complete HTML document of one figure to be written at `htmlFile` (see plotlyTag for how plotly.js is included). */
export function figureHtml(fig: Figure, title: string, htmlFile?: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    plotlyTag(htmlFile),
    '</head>',
    '<body style="margin:0;background:white">',
    '<div id="figure"></div>',
    `<script id="figure-data" type="application/json">${figureJson(fig)}</script>`,
    '<script>',
    PLOTLY_MISSING,
    'const fig = JSON.parse(document.getElementById("figure-data").textContent);',
    'Plotly.newPlot("figure", fig.data, fig.layout, { displaylogo: false, responsive: true });',
    '</script>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Writes `fig` as an HTML file that works offline (see plotlyTag). */
export function writeFigureHtml(file: string, fig: Figure, title: string): void {
  writeFileAtomic(file, figureHtml(fig, title, file));
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

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

interface PageLike {
  setContent(html: string): Promise<void>;
  screenshot(o: { fullPage: boolean; type: 'png' }): Promise<Buffer>;
  addScriptTag(o: { content: string }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}
interface BrowserLike {
  newPage(o?: { viewport: { width: number; height: number }; deviceScaleFactor: number }): Promise<PageLike>;
  close(): Promise<void>;
}
interface PlaywrightLike {
  chromium: { launch(o: { executablePath: string; args: string[]; headless: boolean; timeout: number }): Promise<BrowserLike> };
}

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

/**
 * Chromium through playwright-core, for renderPng and tokensToPng: the browser, or why it cannot be had (no binary,
 * no playwright-core, or a browser that did not start), as renderPng reports it.
 */
async function startChromium(executablePath?: string, timeoutMs = 30_000): Promise<{ browser: BrowserLike } | { skipped: string }> {
  const exe = findChromium(executablePath);
  if (exe.path === null) return { skipped: exe.reason! };
  let pw: PlaywrightLike;
  try {
    pw = require('playwright-core') as PlaywrightLike;
  } catch {
    return { skipped: 'playwright-core (an optional dependency) is not installed; PNG rendering skipped, HTML only' };
  }
  try {
    return { browser: await pw.chromium.launch({ executablePath: exe.path, args: CHROMIUM_FLAGS, headless: true, timeout: timeoutMs }) };
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return { skipped: `chromium at ${exe.path} did not start (${msg}); PNG rendering skipped, HTML only` };
  }
}

interface RenderArgs {
  data: unknown;
  layout: Record<string, unknown>;
  width: number;
  height: number;
  scale: number;
}

/** Runs in the page: draws the figure off-screen and returns a PNG data URL. */
async function drawInPage(a: RenderArgs): Promise<string> {
  const P = (
    window as unknown as {
      Plotly: {
        newPlot(d: HTMLElement, data: unknown, layout: unknown, cfg: unknown): Promise<HTMLElement>;
        toImage(d: HTMLElement, o: unknown): Promise<string>;
        purge(d: HTMLElement): void;
      };
    }
  ).Plotly;
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
  const started = await startChromium(opts.executablePath, opts.timeoutMs);
  if ('skipped' in started) return { rendered: [], skipped: started.skipped };
  const { browser } = started;
  const rendered: string[] = [];
  try {
    const page = await browser.newPage();
    await page.setContent('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0;background:white"></body></html>');
    await page.addScriptTag({ content: plotlyScript() });
    for (const { file, fig } of figs) {
      const width = typeof fig.layout.width === 'number' ? fig.layout.width : (opts.width ?? 1000);
      const height = typeof fig.layout.height === 'number' ? fig.layout.height : (opts.height ?? 600);
      const url = await page.evaluate(drawInPage, { data: fig.data, layout: fig.layout, width, height, scale: opts.scale ?? 2 });
      const prefix = 'data:image/png;base64,';
      if (!url.startsWith(prefix)) throw new KitError(`renderPng: plotly returned no PNG for ${file}`);
      writeFileAtomic(file, await compactPng(Buffer.from(url.slice(prefix.length), 'base64')));
      rendered.push(file);
    }
  } finally {
    await browser.close();
  }
  return { rendered, skipped: null };
}

/**
 * A chart PNG re-encoded as a 256-colour palette PNG (libimagequant through sharp, a dependency of
 * @huggingface/transformers): about 4× smaller than Chromium's RGBA output with no visible change on line, bar and
 * scatter plots. Returned unchanged where sharp cannot be loaded.
 */
export async function compactPng(png: Buffer): Promise<Buffer> {
  let sharp: (b: Buffer) => { png(o: object): { toBuffer(): Promise<Buffer> } };
  try {
    sharp = require('sharp');
  } catch {
    return png;
  }
  return sharp(png).png({ palette: true, quality: 100, compressionLevel: 9, effort: 10 }).toBuffer();
}

/**
 * The τ-coloured token view (tokensToHtml) as a PNG, or null where Chromium cannot be had (see startChromium). An image is what
 * an untrusted notebook (every freshly cloned one) still shows: Jupyter's sanitizer strips the HTML view's inline
 * colours. `width` in CSS pixels (default 900); drawn at device scale 2.
 */
export async function tokensToPng(trace: TokenTrace, options: TokenViewOptions & { width?: number } = {}): Promise<Buffer | null> {
  const html = tokensToHtml(trace, options);
  const started = await startChromium();
  if ('skipped' in started) return null;
  const { browser } = started;
  try {
    const page = await browser.newPage({ viewport: { width: options.width ?? 900, height: 100 }, deviceScaleFactor: 2 });
    await page.setContent(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:8px;background:white">${html}</body></html>`);
    return compactPng(await page.screenshot({ fullPage: true, type: 'png' }));
  } finally {
    await browser.close();
  }
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
  const result =
    png === false
      ? { rendered: [], skipped: 'PNG rendering not requested' }
      : await renderPng(
          figs.map((f) => ({ file: path.join(dir, `${f.name}.png`), fig: f.fig })),
          png === true ? {} : png,
        );
  return { html, png: result };
}

/**
 * One HTML page, to be written at `htmlFile`, holding several figures (plotly included once, see plotlyTag), with
 * optional raw HTML sections (e.g. tokensToHtml snippets) after them.
 */
export function galleryHtml(
  figs: readonly { title: string; fig: Figure }[],
  pageTitle: string,
  extraHtml: readonly { title: string; html: string }[] = [],
  htmlFile?: string,
): string {
  const blocks = figs.map((f, i) =>
    [`<h2>${escapeHtml(f.title)}</h2>`, `<div id="fig${i}"></div>`, `<script id="fig${i}-data" type="application/json">${figureJson(f.fig)}</script>`].join(
      '\n',
    ),
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(pageTitle)}</title>`,
    plotlyTag(htmlFile),
    '</head>',
    '<body style="margin:1em;background:white;font-family:sans-serif">',
    `<h1>${escapeHtml(pageTitle)}</h1>`,
    ...blocks,
    ...extraHtml.map((x) => `<h2>${escapeHtml(x.title)}</h2>\n${x.html}`),
    '<script>',
    PLOTLY_MISSING,
    `for (let i = 0; i < ${figs.length}; i++) {`,
    '  const fig = JSON.parse(document.getElementById(`fig${i}-data`).textContent);',
    '  Plotly.newPlot(`fig${i}`, fig.data, fig.layout, { displaylogo: false, responsive: true });',
    '}',
    '</script>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
