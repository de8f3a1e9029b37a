#!/usr/bin/env node
// `npm run notebooks:ui`: opens notebooks in the classic Jupyter Notebook UI in a headless Chromium (playwright-core),
// clicks Cell → Run All, waits for every cell, and fails on what a reader of the notebook would see go wrong: a kernel
// that does not start, a cell whose kernel reply is an error or that shows an error / stderr output, a cell that never
// finishes, or a figure the committed notebook shows and this run does not. `npm run notebooks` (nbconvert) checks the
// kernel side only; this checks that the notebook works the way a user opens it. Ends with one plain line,
// "notebooks:ui: N passed, M failed (NAME, S s; …)".
//
//   node scripts/notebook-ui.js [FILTER...] [--preset smoke|default|NAME] [--no-build] [--kernel-timeout-s S]
//                               [--cell-timeout-s S]
//
// FILTER: notebooks/NN-*.ipynb whose file name contains one of these strings (default: DEFAULT_NOTEBOOK below), or
//         the path of a notebook file (e.g. a modified copy).
// --preset: INTROLLM_PRESET for the kernel (default smoke; `default` leaves it unset), as in run-notebooks.js.
// --no-build: do not rebuild dist/ (the notebooks import `../dist`).
// --kernel-timeout-s: how long the kernel may take to start and report idle (default 90).
// --cell-timeout-s: how long one cell may run (default 300).
//
// Steps: `node scripts/run-notebooks.js --setup` (builds dist/, registers the tslab kernel in .cache/jupyter); copy the
// notebook, outputs stripped, to .cache/notebook-ui-NAME.ipynb (one folder below the root, so that the kernel's working
// directory resolves `../dist` and `path.resolve('..')` as in notebooks/); start Debian's `jupyter-notebook` on a free
// localhost port with a token, notebook-dir = the repository, Jupyter's config/data/runtime folders under
// .cache/notebook-ui/ (nothing read from or written to ~/.jupyter); open the notebook, pick the "TypeScript (tslab)"
// kernel if the page asks, wait for idle, Run All, wait, read every cell's prompt, kernel reply status and outputs from
// the page. The expected figures are the committed notebook's: a code cell whose committed outputs include an image
// must show an image, one with text/html must show HTML. On failure: the notebook, cell and error text are printed, a
// screenshot goes to .cache/notebook-ui/NAME.png and the executed copy (saved from the UI) stays in .cache/. The server
// and everything it started (kernels, the kernels' own Chromium for kit.renderPng) are stopped at the end, also on
// failure or Ctrl-C: they carry a marker variable in their environment and are found by it.
// Needs (Debian/Ubuntu): apt-get install -y --no-install-recommends jupyter-notebook chromium
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const NB_DIR = path.join(ROOT, 'notebooks');
const WORK = path.join(ROOT, '.cache', 'notebook-ui');
/**
 * The notebook run when no filter is given: 07 is the quickest with image/png figures (rendered in the kernel by
 * kit.renderPng), so the missing-figure check covers images and HTML tables alike (about 26 s here; 03 and 04, tables
 * only, take about 12 s).
 */
const DEFAULT_NOTEBOOK = '07-';
const MARKER = 'INTROLLM_NOTEBOOK_UI_RUN';

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers (tests/scripts/notebook-ui.test.ts)

/** A cell's source as one string (nbformat allows a string or a list of lines). */
function cellSource(cell) {
  return [].concat(cell.source ?? []).join('');
}

/** The figure kinds a list of nbformat outputs shows: 'image' (image/*) and/or 'html' (text/html). */
function figureKinds(outputs) {
  const kinds = new Set();
  for (const o of outputs ?? []) {
    if (!o.data) continue;
    const mimes = Object.keys(o.data);
    if (mimes.some((m) => m.startsWith('image/'))) kinds.add('image');
    if (mimes.includes('text/html')) kinds.add('html');
  }
  return [...kinds].sort();
}

/**
 * What each cell of the committed notebook leads us to expect after a run, in cell order: for code cells, the figure
 * kinds its committed outputs show and whether it wrote to stderr (a cell that did so when it was committed may do so
 * again; any other stderr output counts as an error, since tslab reports errors there).
 */
function committedExpectations(nb) {
  let code = 0;
  return (nb.cells ?? []).map((cell, index) => {
    const source = cellSource(cell);
    if (cell.cell_type !== 'code') return { index, type: cell.cell_type, codeIndex: null, source, figures: [], stderr: false };
    return {
      index,
      type: 'code',
      codeIndex: ++code,
      source,
      figures: figureKinds(cell.outputs),
      stderr: (cell.outputs ?? []).some((o) => o.output_type === 'stream' && o.name === 'stderr'),
    };
  });
}

/** The notebook with outputs and execution counts removed, so that whatever the page shows comes from this run. */
function stripOutputs(nb) {
  return { ...nb, cells: (nb.cells ?? []).map((c) => (c.cell_type === 'code' ? { ...c, outputs: [], execution_count: null } : c)) };
}

/** Error text cut down for a one-screen report: no Node/tslab-internal stack frames, at most `maxLines` lines. */
function trimErrorText(text, maxLines = 12) {
  const lines = String(text)
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '' && !/^\s+at .*(node:|tslab[\\/]dist|evalmachine|node_modules)/.test(l));
  return lines.length > maxLines ? [...lines.slice(0, maxLines), '…'].join('\n') : lines.join('\n');
}

const ABORTED = 'not run: the kernel aborted it after an earlier error';
const FIGURE_LABEL = { image: 'an image (image/png)', html: 'HTML (text/html)' };

/**
 * The problems of one code cell after the UI run, [] when it passed.
 * `expect`: its committedExpectations entry. `observed`: what the page showed, { prompt, status, outputs }:
 *   prompt: the text between the brackets of "In [ ]:" ('' not run, '*' running or queued, else the execution count);
 *   status: the kernel's execute_reply status for the cell's last request ('ok', 'error', 'abort'/'aborted'), or null;
 *   outputs: [{ kind, text?, broken?, plotly? }], kind one of stdout, stderr, error, image, html, markdown, text,
 *            javascript, js-error (the page could not display an output), other.
 */
function classifyCell(expect, observed) {
  if (expect.type !== 'code' || expect.source.trim() === '') return [];
  const problems = [];
  const outs = observed.outputs ?? [];
  const texts = (kind) =>
    outs
      .filter((o) => o.kind === kind)
      .map((o) => o.text ?? '')
      .join('\n')
      .trim();
  const errOut = texts('error');
  const stderr = texts('stderr');
  if (observed.prompt === '*') problems.push('did not finish');
  else if (observed.status === 'abort' || observed.status === 'aborted') problems.push(ABORTED);
  else if (observed.status === 'error') {
    const text = [errOut, stderr].filter(Boolean).join('\n');
    problems.push(`error: ${text ? trimErrorText(text) : '(the kernel replied "error" and showed no message)'}`);
  } else if (errOut) problems.push(`error output: ${trimErrorText(errOut)}`);
  else if (stderr && !expect.stderr) problems.push(`stderr output: ${trimErrorText(stderr)}`);
  else if (observed.status == null && !/^\d+$/.test(observed.prompt ?? '')) problems.push('not run (no reply from the kernel)');
  const jsErr = texts('js-error');
  if (jsErr) problems.push(`the page could not display an output: ${trimErrorText(jsErr, 3)}`);
  if (outs.some((o) => o.kind === 'image' && o.broken)) problems.push('an image output did not load');
  // Figures are judged only where the cell ran to the end; a failed cell has its error reported instead.
  if (problems.length === 0) {
    for (const kind of expect.figures) {
      const shown = kind === 'image' ? outs.some((o) => o.kind === 'image' || o.plotly) : outs.some((o) => o.kind === kind);
      if (!shown) problems.push(`figure missing: the committed notebook shows ${FIGURE_LABEL[kind] ?? kind} here, this run shows none`);
    }
  }
  return problems;
}

/** "cell 7 (code cell 5, In [5])": position in the notebook (1-based, all cells), among code cells, and the prompt. */
function cellLabel(expect, observed) {
  const prompt = observed && observed.prompt !== undefined ? `, In [${observed.prompt || ' '}]` : '';
  return `cell ${expect.index + 1} (code cell ${expect.codeIndex}${prompt})`;
}

/**
 * All failures of a notebook run, in cell order: [{ cell, label, problems, source }]. `observed` is the page's list of
 * cells (same order as the committed notebook); a different number of cells is itself a failure (cell -1).
 */
function judgeNotebook(expectations, observed) {
  if (observed.length !== expectations.length) {
    return [{ cell: -1, label: 'notebook', problems: [`the page shows ${observed.length} cells, the notebook has ${expectations.length}`], source: '' }];
  }
  const failures = [];
  const aborted = [];
  expectations.forEach((e, i) => {
    const problems = classifyCell(e, observed[i]);
    if (problems.length === 1 && problems[0] === ABORTED) aborted.push(e);
    else if (problems.length) failures.push({ cell: i, label: cellLabel(e, observed[i]), problems, source: e.source });
  });
  // The cells the kernel skipped after an error: one entry, not one each.
  if (aborted.length === 1)
    failures.push({ cell: aborted[0].index, label: cellLabel(aborted[0], { prompt: '' }), problems: [ABORTED], source: aborted[0].source });
  else if (aborted.length > 1) {
    const [a, b] = [aborted[0], aborted[aborted.length - 1]];
    failures.push({
      cell: a.index,
      label: `cells ${a.index + 1}–${b.index + 1} (code cells ${a.codeIndex}–${b.codeIndex})`,
      problems: [`not run: the kernel aborted these ${aborted.length} cells after an earlier error`],
      source: '',
    });
  }
  return failures.sort((x, y) => x.cell - y.cell);
}

/** The final line CI reads: "notebooks:ui: 1 passed, 0 failed (03-lm-and-temperature-sampling, 41 s)". */
function summaryLine(results) {
  const passed = results.filter((r) => r.ok).length;
  const detail = results.map((r) => `${r.name}${r.ok ? '' : ' FAILED'}, ${Math.round(r.seconds)} s`).join('; ');
  return `notebooks:ui: ${passed} passed, ${results.length - passed} failed${detail ? ` (${detail})` : ''}`;
}

function parseArgs(argv) {
  const o = { filters: [], preset: 'smoke', build: true, kernelTimeoutS: 90, cellTimeoutS: 300, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const seconds = (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`${a} needs a positive number of seconds, got ${JSON.stringify(v)}`);
      return n;
    };
    if (a === '--no-build') o.build = false;
    else if (a === '--preset') o.preset = value();
    else if (a.startsWith('--preset=')) o.preset = a.slice('--preset='.length);
    else if (a === '--kernel-timeout-s') o.kernelTimeoutS = seconds(value());
    else if (a === '--cell-timeout-s') o.cellTimeoutS = seconds(value());
    else if (a === '--help' || a === '-h') o.help = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.filters.push(a);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// Server, browser, cleanup

const USAGE = 'usage: node scripts/notebook-ui.js [FILTER...] [--preset smoke|default] [--no-build] [--kernel-timeout-s S] [--cell-timeout-s S]';

class Failure extends Error {}

function log(msg) {
  console.log(`notebook-ui: ${msg}`);
}

function findNotebookServer() {
  for (const cand of ['/usr/bin/jupyter-notebook', 'jupyter-notebook']) {
    const r = spawnSync(cand, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return cand;
  }
  throw new Failure('the classic Jupyter Notebook server was not found; on Debian/Ubuntu: apt-get install -y --no-install-recommends jupyter-notebook');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Pids of the processes whose environment carries MARKER=runId (the server and all it started), not this one. */
function markedPids(runId) {
  if (!fs.existsSync('/proc')) return [];
  const needle = Buffer.from(`${MARKER}=${runId}\0`);
  const pids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/environ`).includes(needle)) pids.push(Number(d));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERMs the marked processes, waits up to `graceMs` for them to exit, then SIGKILLs what is left. */
async function stopMarked(runId, graceMs) {
  let pids = markedPids(runId);
  for (const pid of pids)
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  const t0 = Date.now();
  while (pids.some(alive) && Date.now() - t0 < graceMs) await sleep(100);
  pids = markedPids(runId);
  for (const pid of pids)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
}

class NotebookServer {
  constructor(exe, env, runId) {
    this.exe = exe;
    this.env = env;
    this.runId = runId;
    this.logTail = '';
    this.proc = null;
  }

  async start(timeoutMs) {
    this.port = await freePort();
    this.token = crypto.randomBytes(24).toString('hex');
    const args = [
      '--no-browser',
      '--ip=127.0.0.1',
      `--port=${this.port}`,
      '--port-retries=0',
      `--NotebookApp.token=${this.token}`,
      `--notebook-dir=${ROOT}`,
      '--ContentsManager.allow_hidden=True',
      '--NotebookApp.open_browser=False',
    ];
    if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
    const logFile = fs.openSync(path.join(WORK, 'server.log'), 'w');
    this.proc = spawn(this.exe, args, { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r({ code, sig })));
    const onData = (b) => {
      fs.writeSync(logFile, b);
      this.logTail = (this.logTail + b.toString('utf8')).slice(-8000);
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    let gone = null;
    this.exited.then((x) => {
      gone = x;
    });
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (gone) throw new Failure(`jupyter-notebook exited (${gone.code ?? gone.sig}) before it served:\n${this.tail(20)}`);
      try {
        const r = await this.api('GET', '/api/status');
        if (r.ok) return;
      } catch {
        /* not listening yet */
      }
      await sleep(250);
    }
    throw new Failure(`jupyter-notebook did not answer on port ${this.port} within ${timeoutMs / 1000} s:\n${this.tail(20)}`);
  }

  api(method, p) {
    return fetch(`http://127.0.0.1:${this.port}${p}`, { method, headers: { Authorization: `token ${this.token}` }, signal: AbortSignal.timeout(5000) });
  }

  url(rel) {
    return `http://127.0.0.1:${this.port}/notebooks/${rel.split(path.sep).map(encodeURIComponent).join('/')}?token=${this.token}`;
  }

  tail(n) {
    return this.logTail
      .split('\n')
      .filter((l) => l.trim())
      .slice(-n)
      .map((l) => `          ${l}`)
      .join('\n');
  }

  /** Shuts the kernels down through the API, stops the server, then anything still carrying the marker. */
  async stop() {
    if (!this.proc) return;
    try {
      const r = await this.api('GET', '/api/kernels');
      if (r.ok) for (const k of await r.json()) await this.api('DELETE', `/api/kernels/${k.id}`).catch(() => {});
    } catch {
      /* server already gone */
    }
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        process.kill(-this.proc.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await Promise.race([this.exited, sleep(10_000)]);
    }
    await stopMarked(this.runId, 3000);
    this.proc = null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// In the page (these functions are serialised by page.evaluate and run in the notebook's window)

/** Kernel state, any modal dialog, and every cell's prompt, for the polling loop. */
function pageState() {
  const J = window.Jupyter;
  const nb = J && J.notebook;
  const modal = document.querySelector('.modal.in, .modal.show');
  const kernel = nb && nb.kernel;
  return {
    loaded: !!(nb && nb._fully_loaded),
    kernelName: kernel ? kernel.name : null,
    connected: !!(kernel && kernel.is_connected && kernel.is_connected()),
    icon: (document.getElementById('kernel_indicator_icon') || {}).className || '',
    modal: modal
      ? { title: (modal.querySelector('.modal-title') || {}).textContent || '', body: (modal.querySelector('.modal-body') || {}).innerText || '' }
      : null,
    prompts: nb
      ? nb
          .get_cells()
          .map((c) =>
            c.cell_type === 'code' ? (c.input_prompt_number === undefined || c.input_prompt_number === null ? '' : String(c.input_prompt_number)) : null,
          )
      : [],
  };
}

/** Records the kernel's execute_reply status per request, so that a cell's reply can be looked up by its msg id. */
function pageListenReplies() {
  window.__nbuiReplies = window.__nbuiReplies || {};
  if (window.__nbuiListening) return;
  window.__nbuiListening = true;
  window.Jupyter.notebook.events.on('shell_reply.Kernel', (_e, d) => {
    const r = d && d.reply;
    if (r && r.header && r.header.msg_type === 'execute_reply') window.__nbuiReplies[r.parent_header.msg_id] = r.content.status;
  });
}

/** What every cell shows: prompt, reply status and a summary of each output area, as classifyCell reads them. */
function pageCells() {
  const kindOf = (sub) => {
    const c = sub.classList;
    if (sub.querySelector('.js-error')) return 'js-error';
    if (c.contains('output_error')) return 'error';
    if (c.contains('output_stderr')) return 'stderr';
    if (c.contains('output_stdout')) return 'stdout';
    if (['output_png', 'output_jpeg', 'output_gif', 'output_svg'].some((k) => c.contains(k))) return 'image';
    if (c.contains('output_html')) return 'html';
    if (c.contains('output_markdown')) return 'markdown';
    if (c.contains('output_javascript')) return 'javascript';
    if (c.contains('output_text')) return 'text';
    return 'other';
  };
  return window.Jupyter.notebook.get_cells().map((cell) => {
    if (cell.cell_type !== 'code') return { type: cell.cell_type, prompt: null, status: null, outputs: [] };
    const outputs = [...cell.element[0].querySelectorAll('.output_subarea')].map((sub) => {
      const kind = kindOf(sub);
      const img = sub.querySelector('img');
      return {
        kind,
        text: kind === 'image' ? '' : (sub.innerText || '').slice(0, 4000),
        broken: kind === 'image' && !!img && !(img.complete && img.naturalWidth > 0),
        plotly: !!sub.querySelector('.plotly-graph-div, .js-plotly-plot'),
      };
    });
    const n = cell.input_prompt_number;
    return {
      type: 'code',
      prompt: n === undefined || n === null ? '' : String(n),
      status: (cell.last_msg_id && window.__nbuiReplies && window.__nbuiReplies[cell.last_msg_id]) || null,
      outputs,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// One notebook

async function waitForKernel(page, name, timeoutMs) {
  const t0 = Date.now();
  let picked = false;
  let last = null;
  while (Date.now() - t0 < timeoutMs) {
    const s = await page.evaluate(pageState);
    last = s;
    if (s.modal && /kernel not found/i.test(s.modal.title) && !picked) {
      // The notebook names a kernel this server does not have: pick tslab in the dialog, as a user would.
      log(`${name}: the page asks for a kernel ("${s.modal.title}"); choosing TypeScript (tslab)`);
      await page.selectOption('.modal.in select, .modal.show select', 'tslab');
      await page.click('.modal.in .modal-footer button:has-text("Set Kernel"), .modal.show .modal-footer button:has-text("Set Kernel")');
      picked = true;
    } else if (s.modal && /failed to start|kernel restarting|dead kernel/i.test(s.modal.title)) {
      throw new Failure(`the kernel did not start ("${s.modal.title}"): ${s.modal.body.trim().slice(0, 600)}`);
    } else if (s.loaded && s.kernelName && s.kernelName !== 'tslab' && !picked) {
      log(`${name}: the notebook started kernel "${s.kernelName}"; switching to TypeScript (tslab) through Kernel → Change kernel`);
      await page.click('#kernellink');
      await page.hover('#menu-change-kernel');
      await page.click('#kernel-submenu-tslab a');
      picked = true;
    } else if (s.loaded && s.kernelName === 'tslab' && s.connected && /kernel_idle_icon/.test(s.icon) && !s.modal) {
      return (Date.now() - t0) / 1000;
    }
    await sleep(300);
  }
  const state = last
    ? `kernel ${last.kernelName ?? 'none'}, indicator "${last.icon || 'none'}"${last.modal ? `, dialog "${last.modal.title}"` : ''}`
    : 'page not loaded';
  throw new Failure(`the kernel did not start and report idle within ${timeoutMs / 1000} s (${state})`);
}

async function waitForCells(page, expectations, cellTimeoutMs) {
  let running = -1;
  let since = Date.now();
  let idleSince = null;
  for (;;) {
    const s = await page.evaluate(pageState);
    if (s.modal && /dead|restarting|failed/i.test(s.modal.title))
      throw new Failure(`the kernel died during the run ("${s.modal.title}"): ${s.modal.body.trim().slice(0, 600)}`);
    const first = s.prompts.findIndex((p) => p === '*');
    if (first !== running) {
      running = first;
      since = Date.now();
    }
    if (first === -1) {
      if (/kernel_idle_icon/.test(s.icon)) {
        idleSince = idleSince ?? Date.now();
        if (Date.now() - idleSince > 500) return; // late iopub output has been drawn
      } else idleSince = null;
    } else if (Date.now() - since > cellTimeoutMs) {
      const e = expectations[first];
      return { timedOut: first, label: e ? cellLabel(e, { prompt: '*' }) : `cell ${first + 1}` };
    }
    await sleep(500);
  }
}

async function runNotebook(browser, server, file, o) {
  const name = path.basename(file, '.ipynb');
  const t0 = Date.now();
  const committed = JSON.parse(fs.readFileSync(file, 'utf8'));
  const expectations = committedExpectations(committed);
  const rel = path.join('.cache', `notebook-ui-${name}.ipynb`);
  fs.writeFileSync(path.join(ROOT, rel), JSON.stringify(stripOutputs(committed), null, 1) + '\n');
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e && e.message ? e.message : e).split('\n')[0]));
  const result = { name, ok: false, seconds: 0, failures: [] };
  let focus = -1;
  try {
    await page.goto(server.url(rel), { waitUntil: 'load', timeout: 60_000 });
    const kernelS = await waitForKernel(page, name, o.kernelTimeoutS * 1000);
    log(`${name}: kernel idle after ${kernelS.toFixed(1)} s; Cell → Run All`);
    await page.evaluate(pageListenReplies);
    await page.click('#celllink');
    await page.click('#run_all_cells > a');
    const waited = await waitForCells(page, expectations, o.cellTimeoutS * 1000);
    const observed = await page.evaluate(pageCells);
    result.failures = judgeNotebook(expectations, observed);
    const run = expectations.filter((e) => e.type === 'code' && e.source.trim() !== '');
    result.checked =
      `${run.length} code cells, ${run.filter((e) => e.figures.length).length} with figures, ` +
      `${observed.reduce((n, c) => n + c.outputs.filter((x) => x.kind === 'image' || x.kind === 'html').length, 0)} image/HTML outputs shown`;
    if (waited && waited.timedOut !== undefined) {
      const f = result.failures.find((x) => x.cell === waited.timedOut);
      const msg = `did not finish within ${o.cellTimeoutS} s`;
      if (f) f.problems = f.problems.map((p) => (p === 'did not finish' ? msg : p));
      else result.failures.unshift({ cell: waited.timedOut, label: waited.label, problems: [msg], source: expectations[waited.timedOut]?.source ?? '' });
      // The cells queued behind it never started: one line for them, not one failure each.
      const queued = result.failures.filter((x) => x.cell > waited.timedOut && x.problems.length === 1 && x.problems[0] === 'did not finish');
      result.failures = result.failures.filter((x) => !queued.includes(x));
      if (queued.length)
        result.failures.push({
          cell: queued[0].cell,
          label: `${queued.length} later cell(s)`,
          problems: ['not run: queued behind the cell that did not finish'],
          source: '',
        });
    }
    focus = result.failures.length ? result.failures[0].cell : -1;
    result.ok = result.failures.length === 0;
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    result.failures.push({ cell: -1, label: 'notebook', problems: [e.message], source: '' });
  } finally {
    result.seconds = (Date.now() - t0) / 1000;
    if (!result.ok) {
      try {
        if (focus >= 0)
          await page.evaluate((i) => {
            const c = window.Jupyter.notebook.get_cell(i);
            if (c) c.element[0].scrollIntoView();
          }, focus);
        const shot = path.join(WORK, `${name}.png`);
        await page.screenshot({ path: shot, timeout: 10_000 });
        result.screenshot = path.relative(ROOT, shot);
      } catch {
        /* the page may be gone */
      }
      try {
        await page.evaluate(() => window.Jupyter && window.Jupyter.notebook && window.Jupyter.notebook.save_notebook());
        result.saved = rel;
      } catch {
        /* not saved */
      }
      result.pageErrors = pageErrors;
    }
    await page.close().catch(() => {});
  }
  return result;
}

function report(r, serverTail) {
  if (r.ok) {
    console.log(`  ok    ${r.name}  (${r.seconds.toFixed(1)} s; ${r.checked})`);
    return;
  }
  console.log(`  FAIL  ${r.name}  (${r.seconds.toFixed(1)} s)`);
  for (const f of r.failures) {
    const [firstProblem, ...more] = f.problems;
    console.log(`        ${r.name}: ${f.label}: ${firstProblem.replace(/\n/g, '\n          ')}`);
    for (const p of more) console.log(`          also: ${p.replace(/\n/g, '\n          ')}`);
    const src = f.source.split('\n').filter((l) => l.trim());
    if (src.length) console.log(`          source: ${src[0].slice(0, 110)}${src.length > 1 || src[0].length > 110 ? ' …' : ''}`);
  }
  if (r.failures.some((f) => f.cell === -1) && serverTail) console.log(`        server log (tail):\n${serverTail}`);
  if (r.pageErrors && r.pageErrors.length) console.log(`        page errors: ${r.pageErrors.slice(0, 5).join(' | ')}`);
  if (r.screenshot) console.log(`        screenshot: ${r.screenshot}`);
  if (r.saved) console.log(`        executed copy: ${r.saved}`);
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`notebook-ui: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const filters = o.filters.length ? o.filters : [DEFAULT_NOTEBOOK];
  // A filter that is the path of a notebook file runs that file (e.g. a modified copy kept outside notebooks/).
  const files = filters.filter((x) => x.endsWith('.ipynb') && fs.existsSync(x)).map((x) => path.resolve(x));
  const names = filters.filter((x) => !files.includes(path.resolve(x)));
  const notebooks = [
    ...files,
    ...(names.length === 0 && files.length
      ? []
      : fs
          .readdirSync(NB_DIR)
          .filter((f) => /^\d\d-.*\.ipynb$/.test(f))
          .sort()
          .filter((f) => names.some((x) => f.includes(x)))
          .map((f) => path.join(NB_DIR, f))),
  ];
  if (notebooks.length === 0) throw new Failure(`no notebooks matched in ${path.relative(ROOT, NB_DIR)} (filters: ${filters.join(', ')})`);
  fs.mkdirSync(WORK, { recursive: true });

  const setup = spawnSync(process.execPath, [path.join(__dirname, 'run-notebooks.js'), '--setup', ...(o.build ? [] : ['--no-build'])], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (setup.status !== 0) throw new Failure(`node scripts/run-notebooks.js --setup failed:\n${setup.stdout}${setup.stderr}`);
  const exe = findNotebookServer();
  const { findChromium, CHROMIUM_FLAGS } = require(path.join(ROOT, 'dist', 'plots', 'render.js'));
  const chrome = findChromium();
  if (!chrome.path) throw new Failure(`${chrome.reason.split(';')[0]}; on Debian/Ubuntu: apt-get install -y --no-install-recommends chromium`);
  let pw;
  try {
    pw = require('playwright-core');
  } catch {
    throw new Failure('playwright-core (an optional dependency) is not installed: npm install');
  }

  const runId = crypto.randomBytes(8).toString('hex');
  const env = { ...process.env, [MARKER]: runId };
  env.JUPYTER_PATH = [path.join(ROOT, '.cache', 'jupyter'), process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
  for (const [k, sub] of [
    ['JUPYTER_CONFIG_DIR', 'config'],
    ['JUPYTER_DATA_DIR', 'data'],
    ['JUPYTER_RUNTIME_DIR', 'runtime'],
  ]) {
    env[k] = path.join(WORK, sub);
    fs.mkdirSync(env[k], { recursive: true });
  }
  if (o.preset === 'default' || o.preset === '') delete env.INTROLLM_PRESET;
  else env.INTROLLM_PRESET = o.preset;

  const server = new NotebookServer(exe, env, runId);
  let browser = null;
  const onSignal = (sig) => {
    console.error(`notebook-ui: ${sig}, stopping the server and its kernels`);
    for (const pid of markedPids(runId))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const pid of markedPids(runId))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  });

  const results = [];
  try {
    log(`${notebooks.length} notebook(s) in the classic Notebook UI (${exe}, chromium ${chrome.path}), INTROLLM_PRESET=${env.INTROLLM_PRESET ?? '(unset)'}`);
    await server.start(60_000);
    browser = await pw.chromium.launch({ executablePath: chrome.path, args: CHROMIUM_FLAGS, headless: true, timeout: 60_000 });
    for (const nb of notebooks) {
      const r = await runNotebook(browser, server, nb, o);
      report(r, server.tail(15));
      results.push(r);
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
  console.log(summaryLine(results));
  return results.every((r) => r.ok) ? 0 : 1;
}

module.exports = {
  cellSource,
  figureKinds,
  committedExpectations,
  stripOutputs,
  trimErrorText,
  classifyCell,
  cellLabel,
  judgeNotebook,
  summaryLine,
  parseArgs,
  DEFAULT_NOTEBOOK,
};

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`notebook-ui: ${e instanceof Failure ? e.message : (e && e.stack) || e}`);
      console.log('notebooks:ui: 0 passed, 1 failed');
      process.exit(1);
    },
  );
}
