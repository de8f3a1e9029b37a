// A plain HTML table for notebooks (tslab.display.html), in place of console.table's box of quoted strings. Plain
// markup with no styles or scripts, so Jupyter's sanitizer keeps it in an untrusted notebook too.
import { escapeHtml } from './style';

/** How a cell shows a value: numbers with up to 4 significant digits (integers in full), arrays joined, objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (Array.isArray(v)) return v.map(cellText).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * `rows` as an HTML table, the way console.table lays them out: an array of objects (the index column counts from 0)
 * or an object of objects (its keys are the index column); the columns are the union of the rows' keys in order of
 * appearance. A row that is not an object fills one column named 'value'.
 */
export function htmlTable(rows: readonly unknown[] | Record<string, unknown>): string {
  const entries: [string, unknown][] = Array.isArray(rows) ? rows.map((r, i) => [String(i), r]) : Object.entries(rows);
  const cols: string[] = [];
  const asRecord = (r: unknown): Record<string, unknown> =>
    r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>) : { value: r };
  for (const [, r] of entries) for (const k of Object.keys(asRecord(r))) if (!cols.includes(k)) cols.push(k);
  const head = `<tr><th></th>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = entries.map(([k, r]) => {
    const rec = asRecord(r);
    return `<tr><th>${escapeHtml(k)}</th>${cols.map((c) => `<td>${escapeHtml(cellText(rec[c]))}</td>`).join('')}</tr>`;
  });
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}
