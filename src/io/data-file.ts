// The kit's hand-written input files (config files, grid files): JSON or YAML by extension, parsed into plain data
// with the line of every key kept, so that an error about a key names the file and the line it is on. A file that
// does not parse is a KitError naming the file, line and column.
import * as fs from 'node:fs';
import { isMap, isSeq, LineCounter, Node, parseDocument } from 'yaml';
import { KitError } from '../errors';

export interface DataFile {
  file: string;
  data: unknown;
  /** The 1-based line of the deepest key (or list item) along `keyPath` that the file has, or undefined. */
  lineOf(keyPath: (string | number)[]): number | undefined;
  /** `file:line` of `keyPath` (`file` alone where the key is not found). */
  where(keyPath: (string | number)[]): string;
}

export const DATA_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'];

function lineFromJsonError(text: string, message: string): { line: number; col: number } | null {
  const lc = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lc) return { line: Number(lc[1]), col: Number(lc[2]) };
  const pos = /at position (\d+)/.exec(message);
  if (pos) {
    const before = text.slice(0, Number(pos[1]));
    const nl = before.lastIndexOf('\n');
    return { line: before.split('\n').length, col: before.length - nl };
  }
  if (/Unexpected end of JSON input/.test(message)) return { line: text.split('\n').length, col: text.length - text.lastIndexOf('\n') };
  return null;
}

/** Reads and parses `file` (.json, .yaml or .yml); `what` names the kind of file in errors (e.g. 'config file'). */
export function readDataFile(file: string, what = 'file'): DataFile {
  const ext = DATA_FILE_EXTENSIONS.find((e) => file.toLowerCase().endsWith(e));
  if (!ext) throw new KitError(`${file}: a ${what} must end in .json, .yaml or .yml`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new KitError(`${file}: cannot read the ${what} (${(e as Error).message})`);
  }
  const lineCounter = new LineCounter();
  // JSON files are parsed strictly by JSON.parse; the YAML parser (JSON is YAML 1.2) only finds the keys' lines.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  let data: unknown;
  if (ext === '.json') {
    try {
      data = JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const at = lineFromJsonError(text, msg);
      throw new KitError(
        `${file}${at ? `:${at.line}:${at.col}` : ''}: not valid JSON (${msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+$/, '')})`,
      );
    }
    const dup = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
    if (dup) {
      const { line, col } = lineCounter.linePos(dup.pos[0]);
      throw new KitError(`${file}:${line}:${col}: a key appears twice in the same object`);
    }
  } else {
    const err = doc.errors[0];
    if (err) {
      const { line, col } = lineCounter.linePos(err.pos[0]);
      throw new KitError(`${file}:${line}:${col}: not valid YAML (${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')})`);
    }
    data = doc.toJS({ maxAliasCount: 100 });
  }
  const lineOf = (keyPath: (string | number)[]): number | undefined => {
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const k of keyPath) {
      let next: { key?: unknown; node: unknown } | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(k));
        if (pair) next = { key: pair.key, node: pair.value };
      } else if (isSeq(node) && typeof k === 'number') {
        const item = node.items[k];
        if (item !== undefined) next = { key: item, node: item };
      }
      if (!next) break;
      const range = (next.key as Node | null)?.range;
      if (range) line = lineCounter.linePos(range[0]).line;
      node = next.node;
    }
    return line;
  };
  return {
    file,
    data,
    lineOf,
    where: (keyPath) => {
      const line = lineOf(keyPath);
      return line === undefined ? file : `${file}:${line}`;
    },
  };
}
