// The example files under configs/: every config file parses and resolves (alone, and as `introllm config` shows it),
// and every grid file (grid-*) loads as an ablation grid and as a selection grid at the tiny preset.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFromFlags } from '../src/commands/config';
import { controllerOptions, describeConfig, loadConfigFile, resolveConfig } from '../src/config';
import { loadAblationGridFile } from '../src/experiments/ablations';
import { loadSelectionGridFile } from '../src/experiments/selection';

const DIR = path.join(__dirname, '..', 'configs');
const files = fs
  .readdirSync(DIR)
  .filter((f) => /\.(json|ya?ml)$/.test(f))
  .sort();

describe('configs/', () => {
  it('has the documented examples', () => {
    expect(files).toEqual(expect.arrayContaining(['tiny-sequential.yaml', 'grid-lr-temp.yaml', 'known-answer.yaml']));
  });

  for (const f of files.filter((x) => !x.startsWith('grid-'))) {
    it(`${f} parses and resolves`, () => {
      const file = path.join(DIR, f);
      const cfg = resolveConfig({ configFile: file });
      const c = loadConfigFile(file);
      expect(cfg).toEqual(resolveConfig({ preset: c.preset, configFile: file }));
      const rows = describeConfig(resolveFromFlags(['--config', file]).resolved);
      expect(rows.filter((r) => r.source.kind === 'file').length).toBeGreaterThan(0);
    });
  }

  it('tiny-sequential.yaml is the default run written out: it resolves to what the tiny preset does', () => {
    const file = resolveConfig({ configFile: path.join(DIR, 'tiny-sequential.yaml') });
    const preset = resolveConfig({ preset: 'tiny' });
    expect({ ...file, controller: controllerOptions(file) }).toEqual({ ...preset, controller: controllerOptions(preset) });
    expect(file.controller.name).toBe(preset.controller.name);
  });

  for (const f of files.filter((x) => x.startsWith('grid-'))) {
    it(`${f} loads as an ablation and a selection grid`, () => {
      const file = path.join(DIR, f);
      const a = loadAblationGridFile(file, { preset: 'tiny' });
      const s = loadSelectionGridFile(file, { preset: 'tiny' });
      expect(a.name).toBe(s.name);
      expect(a.grid.variants.length).toBeGreaterThan(1);
      expect(s.grid.chooses.length).toBeGreaterThan(0);
    });
  }
});
