#!/usr/bin/env node
// `npm run notebooks`: executes every notebooks/NN-*.ipynb headless with the tslab (TypeScript) kernel, in order, and
// ends with one plain line, "notebooks: N passed, M failed", that CI reads.
//
//   node scripts/run-notebooks.js [FILTER...] [--preset smoke|default|NAME] [--inplace] [--no-build] [--out DIR] [--setup]
//
// FILTER: run only notebooks whose file name contains one of these strings (e.g. `03` or `policy`).
// --preset: the value of INTROLLM_PRESET the notebooks see (they pick their sizes from it); default `smoke` (tiny
//           sizes, for CI); `default` leaves the variable unset (the notebooks' normal, moderate sizes).
// --inplace: write the executed notebooks (with outputs) over notebooks/*.ipynb; otherwise they go to --out
//           (default .cache/notebooks-out/) and the committed notebooks are left alone.
// --no-build: do not rebuild dist/ (the notebooks import the kit from the build output, `../dist`).
// --setup: only build dist/ and register the kernel, then print how to open the notebooks interactively.
//
// Steps: build dist/ when it is missing or older than src/; register the tslab kernel in a project-local Jupyter folder
// (.cache/jupyter/kernels/tslab/kernel.json) and point JUPYTER_PATH at it; run `jupyter nbconvert --execute` per
// notebook. A cell error fails that notebook (exit 1), and the error is printed with the notebook's name.
// Needs Jupyter's headless executor; on Debian/Ubuntu:
//   apt-get install -y --no-install-recommends python3-nbclient python3-nbconvert python3-jupyter-client \
//     jupyter-nbconvert jupyter-client jupyter-core python3-ipython
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const NB_DIR = path.join(ROOT, 'notebooks');
const DEBIAN_PACKAGES = 'python3-nbclient python3-nbconvert python3-jupyter-client jupyter-nbconvert jupyter-client jupyter-core python3-ipython';

function fail(msg) {
  console.error(`run-notebooks: ${msg}`);
  console.log('notebooks: 0 passed, 1 failed');
  process.exit(1);
}

function parseArgs(argv) {
  const o = { filters: [], preset: 'smoke', inplace: false, build: true, setup: false, out: path.join(ROOT, '.cache', 'notebooks-out') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--inplace') o.inplace = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--setup') o.setup = true;
    else if (a === '--preset') o.preset = value();
    else if (a.startsWith('--preset=')) o.preset = a.slice('--preset='.length);
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/run-notebooks.js [FILTER...] [--preset smoke|default] [--inplace] [--no-build] [--out DIR] [--setup]');
      process.exit(0);
    } else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else o.filters.push(a);
  }
  return o;
}

/** Newest modification time (ms) of the files under `dir`, recursively. */
function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuild() {
  const index = path.join(ROOT, 'dist', 'index.js');
  const stale = !fs.existsSync(index) || newestMtime(path.join(ROOT, 'dist')) < newestMtime(path.join(ROOT, 'src'));
  if (!stale) return;
  console.log('run-notebooks: building dist/ (npm run build)');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail('`npm run build` failed (see above); the notebooks import the kit from dist/');
}

function findJupyter() {
  for (const cand of ['/usr/bin/jupyter', 'jupyter']) {
    const r = spawnSync(cand, ['nbconvert', '--version'], { encoding: 'utf8' });
    if (r.status === 0) return cand;
  }
  fail(
    `Jupyter's headless executor (jupyter nbconvert + nbclient) was not found. On Debian/Ubuntu install it with:\n` +
      `  apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES}\n` +
      `(JupyterLab is optional; add jupyter-notebook for a browser UI.)`,
  );
}

/** Writes the tslab kernelspec into <ROOT>/.cache/jupyter and returns that folder (for JUPYTER_PATH). */
function registerKernel() {
  const tslab = path.join(ROOT, 'node_modules', '.bin', 'tslab');
  if (!fs.existsSync(tslab)) fail(`${tslab} not found: run npm install (tslab is a devDependency)`);
  const jupyterDir = path.join(ROOT, '.cache', 'jupyter');
  const kdir = path.join(jupyterDir, 'kernels', 'tslab');
  fs.mkdirSync(kdir, { recursive: true });
  const spec = { argv: [tslab, 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript (tslab)', language: 'typescript' };
  fs.writeFileSync(path.join(kdir, 'kernel.json'), JSON.stringify(spec, null, 2) + '\n');
  return jupyterDir;
}

/** The failing cell's source, as nbconvert's CellExecutionError message quotes it between dashed lines. */
function failingSource(stderr) {
  const m = /An error occurred while executing the following cell:\n-{10,}\n([\s\S]*?)\n-{10,}\n/.exec(stderr);
  return m ? m[1] : null;
}

/**
 * What went wrong in a failed notebook. tslab writes the error and its stack to the cell's stderr stream, and
 * nbconvert's message carries only the cell's source and an often empty error name, so the notebook is executed again
 * with --allow-errors (into the scratch folder) and the failing cell's outputs are read from there.
 */
function explainFailure(jupyter, nbPath, env, stderr, outDir) {
  const source = failingSource(stderr);
  const lines = [];
  if (source === null) {
    lines.push(
      ...stderr
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-30),
    );
    return lines.join('\n');
  }
  lines.push(
    'failing cell:',
    ...source
      .split('\n')
      .slice(0, 12)
      .map((l) => `  ${l}`),
    ...(source.split('\n').length > 12 ? ['  …'] : []),
  );
  const name = path.basename(nbPath, '.ipynb') + '.failed.ipynb';
  const r = spawnSync(
    jupyter,
    [
      'nbconvert',
      '--to',
      'notebook',
      '--execute',
      '--allow-errors',
      '--ExecutePreprocessor.kernel_name=tslab',
      '--ExecutePreprocessor.timeout=600',
      '--output-dir',
      outDir,
      '--output',
      name,
      nbPath,
    ],
    { cwd: NB_DIR, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const file = path.join(outDir, name);
  if (r.status === 0 && fs.existsSync(file)) {
    const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
    const cell = nb.cells.find((c) => c.cell_type === 'code' && [].concat(c.source).join('').trim() === source.trim());
    const err = cell
      ? cell.outputs
          .filter((o) => o.output_type === 'error' || o.name === 'stderr')
          .map((o) => (o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : [].concat(o.text).join('')))
          .join('\n')
          .trim()
      : '';
    if (err)
      lines.push(
        'error:',
        ...err
          .split('\n')
          .filter((l) => !/^\s+at .*(node:|tslab[\\/]dist|evalmachine)/.test(l))
          .slice(0, 30)
          .map((l) => `  ${l}`),
      );
    lines.push(`(the notebook executed with --allow-errors: ${path.relative(ROOT, file)})`);
  } else {
    const m = /CellExecutionError[^\n]*\n[\s\S]*?\n-{10,}\n[\s\S]*?\n-{10,}\n([\s\S]*)$/.exec(stderr);
    lines.push(
      'error:',
      ...(m ? m[1] : stderr)
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(0, 20)
        .map((l) => `  ${l}`),
    );
  }
  return lines.join('\n');
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const notebooks = fs
    .readdirSync(NB_DIR)
    .filter((f) => /^\d\d-.*\.ipynb$/.test(f))
    .sort()
    .filter((f) => o.filters.length === 0 || o.filters.some((x) => f.includes(x)));
  if (notebooks.length === 0) fail(`no notebooks matched in ${NB_DIR}${o.filters.length ? ` (filters: ${o.filters.join(', ')})` : ''}`);
  if (o.setup) {
    if (o.build) ensureBuild();
    const dir = registerKernel();
    console.log(
      `run-notebooks: kernel 'tslab' registered in ${path.relative(ROOT, dir)}. To work interactively, from the project root:\n` +
        `  JUPYTER_PATH=${dir} jupyter lab notebooks/        (or: jupyter notebook notebooks/)\n` +
        `The kernel starts in notebooks/, so the notebooks import the kit as '../dist': rerun this (or npm run build) after changing src/.`,
    );
    return;
  }
  const jupyter = findJupyter();
  if (o.build) ensureBuild();
  const jupyterPath = registerKernel();
  const env = { ...process.env, JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter) };
  if (o.preset === 'default' || o.preset === '') delete env.INTROLLM_PRESET;
  else env.INTROLLM_PRESET = o.preset;
  if (!o.inplace) fs.mkdirSync(o.out, { recursive: true });
  console.log(
    `run-notebooks: ${notebooks.length} notebook(s), INTROLLM_PRESET=${env.INTROLLM_PRESET ?? '(unset)'}, ` +
      `${o.inplace ? 'writing outputs in place' : `outputs in ${path.relative(ROOT, o.out) || '.'}`}`,
  );
  let passed = 0;
  const failed = [];
  for (const nb of notebooks) {
    const t0 = Date.now();
    const args = [
      'nbconvert',
      '--to',
      'notebook',
      '--execute',
      '--ExecutePreprocessor.kernel_name=tslab',
      '--ExecutePreprocessor.timeout=600',
      ...(o.inplace ? ['--inplace'] : ['--output-dir', o.out]),
      path.join(NB_DIR, nb),
    ];
    const r = spawnSync(jupyter, args, { cwd: NB_DIR, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.status === 0) {
      passed++;
      console.log(`  ok    ${nb}  (${secs} s)`);
    } else {
      failed.push(nb);
      const stderr = `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
      const scratch = o.inplace ? path.join(ROOT, '.cache', 'notebooks-out') : o.out;
      fs.mkdirSync(scratch, { recursive: true });
      console.log(`  FAIL  ${nb}  (${secs} s)\n${explainFailure(jupyter, path.join(NB_DIR, nb), env, stderr, scratch).replace(/^/gm, '        ')}`);
    }
  }
  if (failed.length) console.log(`failed: ${failed.join(', ')}`);
  console.log(`notebooks: ${passed} passed, ${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
}

main();
