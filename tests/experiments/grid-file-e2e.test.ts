// `introllm ablate --grid-file F --config C` end to end on a tiny random model: the config file reaches every child
// run, the study writes under runs/ by default, and the folder keeps the grid so that `introllm figures` rebuilds it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { tempDir } from '../helpers/kit';
import { writeTinyTaskModel } from '../helpers/tiny-model';

const ROOT = path.join(__dirname, '..', '..');
const dir = tempDir();
const modelDir = path.join(dir, 'model');
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  await writeTinyTaskModel(modelDir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const runIn = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'introllm.js'), ...args], { encoding: 'utf8', cwd });

describe('introllm ablate --grid-file --config', () => {
  it('every run resolves the config file; the folder is runs/ablations/<preset>/<name>/ and keeps grid.json for figures', () => {
    const cwd = path.join(dir, 'checkout');
    fs.mkdirSync(cwd, { recursive: true });
    fs.writeFileSync(
      path.join(cwd, 'small.yaml'),
      [
        'preset: smoke',
        `model: { dir: ${JSON.stringify(modelDir)} }`,
        'train: { steps: 1 }',
        'rollout: { maxNewTokens: 8 }',
        'eval: { problems: 4, maxNewTokens: 8 }',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(cwd, 'grid.yaml'),
      [
        'name: two-ranges',
        'description: Two head ranges',
        'variants:',
        '  - label: narrow',
        '    set: [controller.tauMin=0.7, controller.tauMax=1.3]',
        '  - label: wide',
        '    set: [controller.tauMin=0.2, controller.tauMax=2.0]',
        '',
      ].join('\n'),
    );
    const r = runIn(cwd, 'ablate', '--grid-file', 'grid.yaml', '--config', 'small.yaml', '--seeds', '0', '--jobs', '2');
    expect(r.status, r.stderr).toBe(0);
    const out = path.join(cwd, 'runs', 'ablations', 'smoke', 'two-ranges'); // the preset named by the config file
    expect(fs.existsSync(path.join(cwd, 'results'))).toBe(false);
    const table = JSON.parse(fs.readFileSync(path.join(out, 'table.json'), 'utf8'));
    expect(table.rows.map((x: { variant: string }) => x.variant)).toEqual(['narrow', 'wide']);
    expect(table.default_variant).toBe('narrow');
    const study = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(study.config_file).toBe('small.yaml');
    // Each child run resolved the file (its steps and model) and its variant's settings.
    for (const [label, tauMin] of [
      ['narrow', 0.7],
      ['wide', 0.2],
    ] as const) {
      const cfg = JSON.parse(fs.readFileSync(path.join(out, 'runs', label, 'seed-0', 'config.json'), 'utf8'));
      expect(cfg.train.steps).toBe(1);
      expect(cfg.model.dir).toBe(modelDir);
      expect(cfg.controller.tauMin).toBe(tauMin);
    }
    const before = JSON.parse(fs.readFileSync(path.join(out, 'before-rl', 'summary.json'), 'utf8'));
    expect(before.config_file).toBe('small.yaml');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'grid.json'), 'utf8')).name).toBe('two-ranges');
    // A later process rebuilds the folder from its grid.json, without the grid file.
    fs.rmSync(path.join(cwd, 'grid.yaml'));
    const fig = runIn(cwd, 'figures', out);
    expect(fig.status, fig.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'table.json'), 'utf8')).description).toBe('Two head ranges');
  }, 600_000);
});
