// The pure parts of scripts/notebook-ui.js (the browser test of the notebooks): what a committed notebook leads the
// test to expect per cell, and how a cell's outputs as the page shows them are judged. Hand-made notebooks and page
// summaries; the browser run itself is `npm run notebooks:ui`.
import { describe, expect, it } from 'vitest';
import {
  classifyCell,
  committedExpectations,
  judgeNotebook,
  parseArgs,
  stripOutputs,
  summaryLine,
  trimErrorText,
  type CellExpectation,
  type Notebook,
  type ObservedCell,
} from '../../scripts/notebook-ui';

const png = { output_type: 'display_data', data: { 'image/png': 'iVBOR…', 'text/plain': ['<Figure>'] } };
const html = { output_type: 'display_data', data: { 'text/html': ['<table>', '</table>'] } };
const stdout = { output_type: 'stream', name: 'stdout', text: ['hello\n'] };
const stderr = { output_type: 'stream', name: 'stderr', text: 'warning: slow\n' };

const NB: Notebook = {
  cells: [
    { cell_type: 'markdown', source: ['# Title'] },
    { cell_type: 'code', source: ['import * as kit from "../dist";\n', 'console.log(1);'], outputs: [stdout], execution_count: 1 },
    { cell_type: 'code', source: 'show(fig);', outputs: [png], execution_count: 2 },
    { cell_type: 'code', source: 'table();', outputs: [stdout, html], execution_count: 3 },
    { cell_type: 'code', source: 'both();', outputs: [html, png, stderr], execution_count: 4 },
    { cell_type: 'code', source: '   \n', outputs: [], execution_count: null },
  ],
};

const ok = (outputs: ObservedCell['outputs'], prompt = '1'): ObservedCell => ({ type: 'code', prompt, status: 'ok', outputs });
const code = (figures: CellExpectation['figures'], stderrToo = false): CellExpectation => ({
  index: 3,
  type: 'code',
  codeIndex: 2,
  source: 'x()',
  figures,
  stderr: stderrToo,
});

describe('committedExpectations', () => {
  it('lists per cell the figure kinds of its committed outputs and whether it wrote to stderr', () => {
    const e = committedExpectations(NB);
    expect(e.map((c) => c.type)).toEqual(['markdown', 'code', 'code', 'code', 'code', 'code']);
    expect(e.map((c) => c.codeIndex)).toEqual([null, 1, 2, 3, 4, 5]);
    expect(e.map((c) => c.figures)).toEqual([[], [], ['image'], ['html'], ['html', 'image'], []]);
    expect(e.map((c) => c.stderr)).toEqual([false, false, false, false, true, false]);
    expect(e[1].source).toBe('import * as kit from "../dist";\nconsole.log(1);');
  });

  it('a cell with no outputs field expects nothing', () => {
    expect(committedExpectations({ cells: [{ cell_type: 'code', source: 'x' }] })[0]).toMatchObject({ figures: [], stderr: false });
  });
});

describe('stripOutputs', () => {
  it('removes outputs and counts from code cells only and leaves the input notebook alone', () => {
    const s = stripOutputs(NB);
    expect(s.cells.map((c) => c.outputs)).toEqual([undefined, [], [], [], [], []]);
    expect(s.cells.every((c) => c.cell_type !== 'code' || c.execution_count === null)).toBe(true);
    expect(s.cells[2].source).toBe('show(fig);');
    expect(NB.cells[2].outputs).toHaveLength(1);
  });
});

describe('classifyCell', () => {
  it('passes a finished cell that shows the committed figure kinds', () => {
    expect(classifyCell(code(['image']), ok([{ kind: 'image' }]))).toEqual([]);
    expect(
      classifyCell(
        code(['html']),
        ok([
          { kind: 'stdout', text: 'x' },
          { kind: 'html', text: 'table' },
        ]),
      ),
    ).toEqual([]);
    expect(classifyCell(code([]), ok([{ kind: 'stdout', text: 'x' }]))).toEqual([]);
  });

  it('flags a figure the committed notebook shows and the run does not', () => {
    const [p, ...rest] = classifyCell(code(['image']), ok([{ kind: 'stdout', text: 'PNG rendering skipped' }]));
    expect(p).toMatch(/^figure missing: .*image\/png/);
    expect(rest).toEqual([]);
    expect(classifyCell(code(['html', 'image']), ok([{ kind: 'html' }]))).toEqual([expect.stringMatching(/figure missing: .*image/)]);
    expect(classifyCell(code(['html']), ok([{ kind: 'image' }]))).toEqual([expect.stringMatching(/figure missing: .*text\/html/)]);
  });

  it('counts a Plotly figure as an image, and a broken image as a failure', () => {
    expect(classifyCell(code(['image']), ok([{ kind: 'html', plotly: true }]))).toEqual([]);
    expect(classifyCell(code(['image']), ok([{ kind: 'image', broken: true }]))).toEqual(['an image output did not load']);
  });

  it('reports a kernel error with its stderr text (tslab writes errors there), not a missing figure', () => {
    const p = classifyCell(code(['image']), {
      prompt: '3',
      status: 'error',
      outputs: [{ kind: 'stderr', text: 'Error: x\n    at evalmachine.<anonymous>:1:7\n    at node:internal/x' }],
    });
    expect(p).toEqual(['error: Error: x']);
    expect(classifyCell(code([]), { prompt: '3', status: 'error', outputs: [] })).toEqual([expect.stringMatching(/replied "error" and showed no message/)]);
  });

  it('fails on an error output or unexpected stderr even when the reply said ok', () => {
    expect(classifyCell(code([]), ok([{ kind: 'error', text: 'TypeError: y' }]))).toEqual(['error output: TypeError: y']);
    expect(classifyCell(code([]), ok([{ kind: 'stderr', text: 'oops' }]))).toEqual(['stderr output: oops']);
    expect(classifyCell(code([], true), ok([{ kind: 'stderr', text: 'warning: slow' }]))).toEqual([]);
  });

  it('fails a cell that is still running, was aborted, or never ran', () => {
    expect(classifyCell(code([]), { prompt: '*', status: null, outputs: [] })).toEqual(['did not finish']);
    expect(classifyCell(code(['html']), { prompt: '', status: 'abort', outputs: [] })).toEqual([expect.stringMatching(/^not run: .*aborted/)]);
    expect(classifyCell(code([]), { prompt: '', status: null, outputs: [] })).toEqual([expect.stringMatching(/^not run/)]);
  });

  it('fails an output the page could not display', () => {
    expect(classifyCell(code([]), ok([{ kind: 'js-error', text: 'Javascript error adding output!' }]))[0]).toMatch(/could not display/);
  });

  it('ignores markdown and blank code cells', () => {
    const [md, , , , , blank] = committedExpectations(NB);
    expect(classifyCell(md, { prompt: null, status: null, outputs: [] })).toEqual([]);
    expect(classifyCell(blank, { prompt: '', status: null, outputs: [] })).toEqual([]);
  });
});

describe('judgeNotebook', () => {
  const e = committedExpectations(NB);
  const md: ObservedCell = { type: 'markdown', prompt: null, status: null, outputs: [] };

  it('names each failing cell by its position, code-cell number and prompt', () => {
    const observed: ObservedCell[] = [
      md,
      ok([{ kind: 'stdout', text: '1' }], '1'),
      { prompt: '2', status: 'error', outputs: [{ kind: 'stderr', text: 'Error: x' }] },
      { prompt: '', status: 'abort', outputs: [] },
      { prompt: '', status: 'abort', outputs: [] },
      { prompt: '', status: null, outputs: [] },
    ];
    const f = judgeNotebook(e, observed);
    expect(f.map((x) => x.label)).toEqual(['cell 3 (code cell 2, In [2])', 'cells 4–5 (code cells 3–4)']);
    expect(f[0].problems).toEqual(['error: Error: x']);
    expect(f[0].source).toBe('show(fig);');
    expect(f[1].problems).toEqual([expect.stringMatching(/aborted these 2 cells after an earlier error/)]);
  });

  it('keeps a single aborted cell, and other failures after an error, in cell order', () => {
    const observed: ObservedCell[] = [
      md,
      { prompt: '1', status: 'error', outputs: [{ kind: 'stderr', text: 'Error: x' }] },
      { prompt: '', status: 'abort', outputs: [] },
      { prompt: '*', status: null, outputs: [] },
      ok([{ kind: 'html' }], '4'),
      { prompt: '', status: null, outputs: [] },
    ];
    const f = judgeNotebook(e, observed);
    expect(f.map((x) => [x.cell, x.label, x.problems[0]])).toEqual([
      [1, 'cell 2 (code cell 1, In [1])', 'error: Error: x'],
      [2, 'cell 3 (code cell 2, In [ ])', expect.stringMatching(/^not run: the kernel aborted it/)],
      [3, 'cell 4 (code cell 3, In [*])', 'did not finish'],
      [4, 'cell 5 (code cell 4, In [4])', expect.stringMatching(/figure missing: .*image/)],
    ]);
  });

  it('passes a run that matches, and fails one whose page has a different number of cells', () => {
    const good: ObservedCell[] = [
      md,
      ok([], '1'),
      ok([{ kind: 'image' }], '2'),
      ok([{ kind: 'html' }], '3'),
      ok([{ kind: 'html' }, { kind: 'image' }, { kind: 'stderr', text: 'warning' }], '4'),
      { prompt: '', status: null, outputs: [] },
    ];
    expect(judgeNotebook(e, good)).toEqual([]);
    expect(judgeNotebook(e, good.slice(1))[0].problems[0]).toMatch(/page shows 5 cells, the notebook has 6/);
  });
});

describe('trimErrorText, summaryLine, parseArgs', () => {
  it('drops internal stack frames and blank lines and caps the length', () => {
    expect(trimErrorText('Error: x\n\n    at foo (/repo/src/a.ts:1:2)\n    at node:internal/y\n    at /repo/node_modules/tslab/dist/executor.js:3')).toBe(
      'Error: x\n    at foo (/repo/src/a.ts:1:2)',
    );
    expect(trimErrorText(Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n'), 3)).toBe('line 0\nline 1\nline 2\n…');
  });

  it('prints the one line CI reads', () => {
    expect(summaryLine([{ name: '03-lm', ok: true, seconds: 41.4 }])).toBe('notebooks:ui: 1 passed, 0 failed (03-lm, 41 s)');
    expect(
      summaryLine([
        { name: 'a', ok: true, seconds: 1 },
        { name: 'b', ok: false, seconds: 2.6 },
      ]),
    ).toBe('notebooks:ui: 1 passed, 1 failed (a, 1 s; b FAILED, 3 s)');
  });

  it('reads filters and options, and rejects what it does not know', () => {
    expect(parseArgs(['04', '--preset', 'default', '--no-build', '--cell-timeout-s', '30'])).toMatchObject({
      filters: ['04'],
      preset: 'default',
      build: false,
      cellTimeoutS: 30,
      kernelTimeoutS: 90,
    });
    expect(parseArgs([])).toMatchObject({ filters: [], preset: 'smoke', build: true });
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--kernel-timeout-s', '0'])).toThrow(/positive/);
  });
});
