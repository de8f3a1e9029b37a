// The experiment config: presets, config files, overrides, each key's source, and errors that say what is valid and where.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJson, configText, resolveFromFlags } from '../src/commands/config';
import { configInputs } from '../src/commands/config-flags';
import { describeConfig, loadConfigFile, parseSetting, PRESETS, resolveConfig, resolveConfigSources, setOverrides } from '../src/config';
import { methodOverride } from '../src/experiments/methods';
import { expectKitError, tempDir } from './helpers/kit';

describe('resolveConfig', () => {
  it('layers preset, overrides and --set values', () => {
    const c = resolveConfig({
      preset: 'smoke',
      overrides: [
        { source: 'm', value: methodOverride('fixed-0.6') },
        { source: 's', value: parseSetting('rollout.groupSize=8') },
      ],
    });
    expect(c.train.steps).toBe(PRESETS.smoke.train!.steps);
    expect(c.rollout.groupSize).toBe(8);
    expect(c.controller).toEqual({ name: 'fixed', fixedTau: 0.6 });
    expect(c.schedule.mode).toBe('token-only');
    expect(parseSetting('controller.tauMin=0.5')).toEqual({ controller: { tauMin: 0.5 } });
    expect(parseSetting('model.dir=some/where')).toEqual({ model: { dir: 'some/where' } });
  });

  it('rejects unknown keys, wrong types and impossible values, saying what is valid', () => {
    const set = (s: string) => () => resolveConfig({ overrides: [{ source: `--set ${s}`, value: parseSetting(s) }] });
    expectKitError(set('rollout.groupsize=4'), "unknown config key 'rollout.groupsize'", 'groupSize');
    expectKitError(set('rollout.groupSize="four"'), "'rollout.groupSize' must be a number");
    expectKitError(set('rollout.groupSize=1'), "'rollout.groupSize' must be an integer >= 2");
    expectKitError(set('controller.tauMin=1.7'), 'tauMin < tauMax');
    expectKitError(set('controller.tauMni=1'), "unknown key 'tauMni'");
    expectKitError(set('schedule.mode="sometimes"'), "'schedule.mode' must be one of alternate, sequential, joint, temperature-only, token-only");
    expectKitError(set('grpo.clipLow=1.5'), "'grpo.clipLow' must be in (0, 1)");
    expectKitError(set('grpo.tempEpochs=0'), "'grpo.tempEpochs' must be a positive integer");
    expectKitError(set('eval.split="train"'), "'eval.split' must be 'test' or 'validation'");
    expectKitError(() => resolveConfig({ preset: 'huge' }), "unknown preset 'huge'", 'smoke, tiny, quick, countdown, known-answer, small, paper');
    expectKitError(() => resolveConfig({ configFile: '/nonexistent/c.json' }), '/nonexistent/c.json: cannot read the config');
    expectKitError(() => methodOverride('greedy'), "unknown method 'greedy'", 'fixed-<tau>', 'introllm-nogate');
  });
});

describe('config files (JSON and YAML)', () => {
  const dir = tempDir('introllm-config-file-');
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('layers preset < file < --set, and a file may name its preset', () => {
    const yaml = write('a.yaml', 'preset: smoke\nrollout:\n  groupSize: 8\n  maxNewTokens: 32\ncontroller:\n  tauMin: 0.3\n');
    const r = resolveConfigSources({ configFile: yaml, overrides: setOverrides(['rollout.maxNewTokens=16']) });
    expect(r.preset).toBe('smoke');
    expect(r.config.train.steps).toBe(PRESETS.smoke.train!.steps); // from the preset the file names
    expect(r.config.rollout.groupSize).toBe(8); // file over preset (smoke: 4)
    expect(r.config.rollout.maxNewTokens).toBe(16); // --set over file
    expect(r.config.controller).toEqual({ name: 'introllm', tauMin: 0.3 });
    expect(r.sources['rollout.groupSize']).toEqual({ kind: 'file', label: `${yaml}:3` });
    expect(r.sources['rollout.maxNewTokens']).toEqual({ kind: 'set', label: '--set rollout.maxNewTokens=16' });
    expect(r.sources['train.steps']).toEqual({ kind: 'preset', label: 'preset smoke' });
    expect(r.sources['controller.tauMin']).toEqual({ kind: 'file', label: `${yaml}:6` });
    expect(r.sources.seed).toBeUndefined(); // the kit's default
    // An explicit preset wins over the file's; the same values in JSON give the same config.
    const json = write('a.json', JSON.stringify({ preset: 'smoke', rollout: { groupSize: 8, maxNewTokens: 32 }, controller: { tauMin: 0.3 } }, null, 2));
    expect(resolveConfig({ configFile: json, overrides: setOverrides(['rollout.maxNewTokens=16']) })).toEqual(r.config);
    expect(resolveConfig({ preset: 'tiny', configFile: json }).train.steps).toBe(resolveConfig({ preset: 'tiny' }).train.steps);
  });

  it('parse errors name the file, line and column', () => {
    expectKitError(() => loadConfigFile(write('bad.yaml', 'seed: 1\nrollout:\n\tgroupSize: 8\n')), `${dir}/bad.yaml:3:1: not valid YAML`, 'Tabs');
    expectKitError(() => loadConfigFile(write('bad.json', '{\n  "rollout": {\n    "groupSize": 8,\n  }\n}\n')), `${dir}/bad.json:4:3: not valid JSON`);
    expectKitError(() => loadConfigFile(write('dup.json', '{\n  "seed": 1,\n  "seed": 2\n}\n')), `${dir}/dup.json:3:3: a key appears twice`);
    expectKitError(() => loadConfigFile(write('dup.yaml', 'seed: 1\nseed: 2\n')), `${dir}/dup.yaml:2:1`, 'unique');
    expectKitError(() => loadConfigFile(write('list.yaml', '- 1\n- 2\n')), `${dir}/list.yaml: a config file holds a mapping`);
    expectKitError(() => loadConfigFile(write('c.toml', 'seed = 1\n')), 'c.toml: a config file must end in .json, .yaml or .yml');
  });

  it('bad keys and values name the file and the line of the key', () => {
    const f = write('keys.yaml', 'seed: 3\nrollout:\n  groupsize: 8\n');
    expectKitError(() => resolveConfig({ configFile: f }), `${f}:3: unknown config key 'rollout.groupsize'`, 'groupSize');
    const t = write('type.yaml', 'rollout:\n  groupSize: eight\n');
    expectKitError(() => resolveConfig({ configFile: t }), `${t}:2: config key 'rollout.groupSize' must be a number, got string "eight"`);
    const v = write('value.json', '{\n  "rollout": {\n    "groupSize": 1\n  }\n}\n');
    expectKitError(() => resolveConfig({ configFile: v }), `${v}:3: config key 'rollout.groupSize' must be an integer >= 2`);
    const c = write('ctl.yaml', 'controller:\n  name: introllm\n  tauMni: 0.2\n');
    expectKitError(() => resolveConfig({ configFile: c }), `${c}:3: controller config: unknown key 'tauMni'`);
    const p = write('preset.yaml', 'seed: 1\npreset: huge\n');
    expectKitError(() => resolveConfig({ configFile: p }), `${p}:2: unknown preset 'huge'`, 'smoke, tiny');
    // A --set value that fails validation is named too.
    expectKitError(() => resolveConfig({ configFile: f.replace('keys', 'none') }), 'none.yaml: cannot read the config file');
    expectKitError(() => resolveConfig({ overrides: setOverrides(['eval.k=0']) }), "--set eval.k=0: config key 'eval.k' must be a positive integer");
  });
});

describe('introllm config', () => {
  it("prints each key's value, description and source; --set beats the file, the file beats the preset", () => {
    const dir = tempDir('introllm-config-cmd-');
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, '# a comment\npreset: smoke\noptim:\n  lrTemp: 0.01\n');
    const { resolved } = resolveFromFlags(['--config', file, '--set', 'optim.lrToken=0.002']);
    const rows = describeConfig(resolved);
    const row = (key: string) => rows.find((r) => r.key === key)!;
    expect(row('optim.lrTemp')).toMatchObject({ value: 0.01, source: { kind: 'file', label: `${file}:4` } });
    expect(row('optim.lrTemp').description).toContain('temperature head');
    expect(row('optim.lrToken')).toMatchObject({ value: 0.002, source: { kind: 'set', label: '--set optim.lrToken=0.002' } });
    expect(row('train.steps')).toMatchObject({ value: PRESETS.smoke.train!.steps, source: { kind: 'preset', label: 'preset smoke' } });
    expect(row('seed')).toMatchObject({ value: 0, source: { kind: 'default', label: 'default' } });
    expect(row('controller.tauMax')).toMatchObject({ value: 1.6, source: { kind: 'default' } }); // the controller's options, filled in
    // Every key has a description, and every leaf of the resolved config is listed once.
    expect(rows.filter((r) => !(r.description?.length > 10)).map((r) => r.key)).toEqual([]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    const text = configText(resolved, rows, file);
    expect(text).toContain(`optim.lrTemp = 0.01  [${file}:4]`);
    expect(text).toContain('optim.lrToken = 0.002  [--set optim.lrToken=0.002]');
    const json = configJson(resolved, rows, file) as { keys: Record<string, { source: string; source_kind: string }>; config: unknown };
    expect(json.keys['optim.lrTemp']).toMatchObject({ source: `${file}:4`, source_kind: 'file' });
    expect(json.config).toEqual(resolveConfig({ preset: 'smoke', configFile: file, overrides: setOverrides(['optim.lrToken=0.002']) }));
  });

  it('--preset on the command line wins over the file; a preset the command does not run is an error naming the line', () => {
    const dir = tempDir('introllm-config-cmd-');
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, '{\n  "preset": "smoke"\n}\n');
    expect(resolveFromFlags(['--config', file, '--preset', 'quick']).resolved.preset).toBe('quick');
    expect(configInputs({ config: file, preset: 'quick' }, { presets: ['tiny', 'quick'] })).toEqual({ preset: 'quick', configFile: file, sets: [] });
    expectKitError(
      () => configInputs({ config: file }, { presets: ['tiny', 'quick'] }),
      `${file}:2: preset 'smoke' is not one this command runs; valid: tiny, quick`,
    );
    expectKitError(() => configInputs({ preset: 'huge' }), "--preset: unknown preset 'huge'");
  });
});
