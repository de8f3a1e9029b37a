// htmlTable (src/plots/table.ts): console.table's layout as plain HTML.
import { describe, expect, it } from 'vitest';
import { cellText, htmlTable } from '../../src/plots/table';

describe('htmlTable', () => {
  it('lays out an array of objects with an index column and the union of keys in order', () => {
    expect(
      htmlTable([
        { a: 1, b: 'x<y' },
        { b: 2.123456, c: [1, 2] },
      ]),
    ).toBe(
      [
        '<table>',
        '<thead><tr><th></th><th>a</th><th>b</th><th>c</th></tr></thead>',
        '<tbody>',
        '<tr><th>0</th><td>1</td><td>x&lt;y</td><td></td></tr>',
        '<tr><th>1</th><td></td><td>2.123</td><td>1, 2</td></tr>',
        '</tbody>',
        '</table>',
      ].join('\n'),
    );
  });
  it("uses an object's keys as the index and puts plain values in a value column", () => {
    expect(htmlTable({ introllm: { acc: 0.0783 }, n: 5 })).toContain('<tr><th>introllm</th><td>0.0783</td><td></td></tr>');
    expect(htmlTable({ introllm: { acc: 0.0783 }, n: 5 })).toContain('<tr><th>n</th><td></td><td>5</td></tr>');
  });
  it('formats cells: integers in full, others at 4 significant digits, objects as JSON, null empty', () => {
    expect([cellText(123456), cellText(0.000123456), cellText(null), cellText({ x: 1 }), cellText(true)]).toEqual([
      '123456',
      '0.0001235',
      '',
      '{"x":1}',
      'true',
    ]);
  });
});
