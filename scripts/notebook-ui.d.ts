// Types of the pure helpers that scripts/notebook-ui.js exports (for tests/scripts/notebook-ui.test.ts; the script
// itself is plain CommonJS like the other scripts).
export type FigureKind = 'image' | 'html';
export interface NbOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}
export interface NbCell {
  cell_type: string;
  source?: string | string[];
  outputs?: NbOutput[];
  execution_count?: number | null;
}
export interface Notebook {
  cells: NbCell[];
  [k: string]: unknown;
}
export interface CellExpectation {
  index: number;
  type: string;
  codeIndex: number | null;
  source: string;
  figures: FigureKind[];
  stderr: boolean;
}
export type OutputKind = 'stdout' | 'stderr' | 'error' | 'image' | 'html' | 'markdown' | 'text' | 'javascript' | 'js-error' | 'other';
export interface ObservedOutput {
  kind: OutputKind;
  text?: string;
  broken?: boolean;
  plotly?: boolean;
}
export interface ObservedCell {
  type?: string;
  prompt: string | null;
  status: string | null;
  outputs: ObservedOutput[];
}
export interface CellFailure {
  cell: number;
  label: string;
  problems: string[];
  source: string;
}
export interface RunResult {
  name: string;
  ok: boolean;
  seconds: number;
}
export interface Options {
  filters: string[];
  preset: string;
  build: boolean;
  kernelTimeoutS: number;
  cellTimeoutS: number;
  help: boolean;
}

export function cellSource(cell: NbCell): string;
export function figureKinds(outputs: NbOutput[] | undefined): FigureKind[];
export function committedExpectations(nb: Notebook): CellExpectation[];
export function stripOutputs(nb: Notebook): Notebook;
export function trimErrorText(text: string, maxLines?: number): string;
export function classifyCell(expect: CellExpectation, observed: ObservedCell): string[];
export function cellLabel(expect: CellExpectation, observed?: { prompt: string | null }): string;
export function judgeNotebook(expectations: CellExpectation[], observed: ObservedCell[]): CellFailure[];
export function summaryLine(results: RunResult[]): string;
export function parseArgs(argv: string[]): Options;
export const DEFAULT_NOTEBOOK: string;
