// Grids defined in files (`ablate --grid-file`, `select --grid-file`): the format, and errors that name the file, the
// line and the variant for a duplicate label, an unknown key, a bad method or a setting that does not resolve.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ablationGrid, defaultVariantOf, loadAblationGridFile, registerFolderGrid, writeFolderGrid } from '../../src/experiments/ablations';
import { loadSelectionGridFile, selectionGrid } from '../../src/experiments/selection';
import { expectKitError, tempDir } from '../helpers/kit';

const dir = tempDir('introllm-grid-file-');
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

const GOOD = `name: my-grid
description: Two head ranges and a baseline
variants:
  - label: narrow
    set: [controller.tauMin=0.7, controller.tauMax=1.3]
  - label: wide
    method: introllm
    set:
      - controller.tauMin=0.2
      - controller.tauMax=2.0
  - label: tau-1
    method: fixed-1.0
`;

describe('grid files', () => {
  it('an ablation grid: variants with their method (default introllm) and settings, found by name afterwards', () => {
    const { name, grid } = loadAblationGridFile(write('good.yaml', GOOD), { preset: 'smoke' });
    expect(name).toBe('my-grid');
    expect(grid.variants).toEqual([
      { label: 'narrow', method: 'introllm', sets: ['controller.tauMin=0.7', 'controller.tauMax=1.3'] },
      { label: 'wide', method: 'introllm', sets: ['controller.tauMin=0.2', 'controller.tauMax=2.0'] },
      { label: 'tau-1', method: 'fixed-1.0', sets: [] },
    ]);
    expect(ablationGrid('my-grid')).toBe(grid);
    expect(defaultVariantOf(grid)).toBe('narrow');
    const withDefault = loadAblationGridFile(write('def.yaml', GOOD.replace('name: my-grid', 'name: my-grid-2\ndefault: wide')));
    expect(defaultVariantOf(withDefault.grid)).toBe('wide');
    // A study folder keeps the definition, so that `introllm figures` finds the grid in a later process.
    const out = path.join(dir, 'study');
    writeFolderGrid(out, 'my-grid-3', grid);
    registerFolderGrid(out);
    expect(ablationGrid('my-grid-3').variants).toEqual(grid.variants);
  });

  it('a selection grid: the same format in JSON; chooses defaults to the keys its variants set', () => {
    const json = write(
      'sel.json',
      JSON.stringify(
        {
          name: 'sel-grid',
          description: 'lrTemp',
          variants: [
            { label: 'a', set: ['optim.lrTemp=1e-3'] },
            { label: 'b', set: ['optim.lrTemp=1e-2'] },
          ],
        },
        null,
        2,
      ),
    );
    const { name, grid } = loadSelectionGridFile(json, { preset: 'tiny' });
    expect(name).toBe('sel-grid');
    expect(grid.chooses).toEqual(['optim.lrTemp']);
    expect(grid.evaluationOnly).toBeUndefined();
    expect(selectionGrid('sel-grid')).toBe(grid);
    expect(
      loadSelectionGridFile(write('sel2.yaml', GOOD.replace('name: my-grid', 'name: sel-3\nchooses: [controller.tauMin]\nevaluationOnly: true'))).grid,
    ).toMatchObject({ chooses: ['controller.tauMin'], evaluationOnly: true });
  });

  it('duplicate labels, unknown keys, bad methods and bad settings name the file, the line and the variant', () => {
    const bad = (name: string, text: string, ...fragments: string[]) => {
      const file = write(name, text);
      expectKitError(() => loadAblationGridFile(file, { preset: 'tiny' }), ...fragments.map((f) => f.replace('FILE', file)));
    };
    bad('dup.yaml', GOOD.replace('label: wide', 'label: narrow'), "FILE:6: variant 'narrow' appears twice (variant 1 has the same label)");
    bad(
      'key.yaml',
      GOOD.replace('    method: introllm\n', '    methd: introllm\n'),
      "FILE:7: variant 'wide': unknown key 'methd'; valid keys: label, method, set",
    );
    bad('method.yaml', GOOD.replace('method: fixed-1.0', 'method: greedy'), "FILE:12: variant 'tau-1': unknown method 'greedy'");
    bad(
      'unknown.yaml',
      GOOD.replace('controller.tauMin=0.7', 'optim.lrTmp=1e-3'),
      "FILE:5: variant 'narrow': --set optim.lrTmp=1e-3: unknown config key 'optim.lrTmp'",
    );
    bad(
      'value.yaml',
      GOOD.replace('      - controller.tauMax=2.0', '      - rollout.groupSize=1'),
      "FILE:10: variant 'wide': --set rollout.groupSize=1: config key 'rollout.groupSize' must be an integer >= 2",
    );
    bad('range.yaml', GOOD.replace('controller.tauMax=1.3', 'controller.tauMax=0.5'), "FILE:5: variant 'narrow':", 'tauMin < tauMax');
    bad(
      'setting.yaml',
      GOOD.replace('[controller.tauMin=0.7, controller.tauMax=1.3]', '[tauMin]'),
      "FILE:5: variant 'narrow': --set 'tauMin': expected key=value",
    );
    bad('label.yaml', GOOD.replace('label: tau-1', 'label: tau 1'), "FILE:11: variant 3: 'label' must be a folder name");
    bad('top.yaml', GOOD.replace('description:', 'descr:'), "FILE:2: unknown key 'descr' in ablation grid file");
    bad('builtin.yaml', GOOD.replace('name: my-grid', 'name: gate'), "FILE:1: 'gate' is a built-in ablation grid");
    bad('empty.yaml', 'name: x\ndescription: y\nvariants: []\n', "FILE:3: 'variants' must be a non-empty list");
    bad(
      'default.yaml',
      GOOD.replace('name: my-grid', 'name: d\ndefault: medium'),
      "FILE:2: 'default' must be one of the variants' labels (narrow, wide, tau-1), got 'medium'",
    );
    bad('parse.json', '{\n  "name": "x",\n  "variants": [\n    {"label": "a",}\n  ]\n}\n', 'FILE:4:', 'not valid JSON');
    bad(
      'sets.yaml',
      GOOD.replace('[controller.tauMin=0.7, controller.tauMax=1.3]', '{controller.tauMin: 0.7}'),
      "FILE:5: variant 'narrow': 'set' must be a list of \"key=value\" strings",
    );
    // A selection grid file names its kind, and its own keys are checked.
    const sel = write('sel-bad.yaml', GOOD.replace('name: my-grid', 'name: s\nchooses: optim.lrTemp'));
    expectKitError(() => loadSelectionGridFile(sel), `${sel}:2: 'chooses' must be a list of strings`);
    const abl = write('abl-key.yaml', GOOD.replace('name: my-grid', 'name: s\nevaluationOnly: true'));
    expectKitError(() => loadAblationGridFile(abl), `${abl}:2: unknown key 'evaluationOnly' in ablation grid file`);
  });
});
