// The command line's help and its shared rules: `introllm --help` lists every registered command with its summary,
// every usage lists the presets of its preset table, and the study commands write under runs/ unless --reference.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command, commandNames } from '../src/cli';
import { studyOutDir } from '../src/commands/config-flags';
import { PRESETS } from '../src/config';
import { ABLATION_GRIDS } from '../src/experiments/ablations';
import { REPRODUCE_PRESETS } from '../src/experiments/reproduce';
import { SELECTION_GRIDS } from '../src/experiments/selection';
import { expectKitError } from './helpers/kit';

const ROOT = path.join(__dirname, '..');
const commands: Record<string, Command> = {};
const load = (name: string): Command => commands[name];
const modules = fs
  .readdirSync(path.join(ROOT, 'src', 'commands'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

beforeAll(async () => {
  for (const m of modules) {
    const c = ((await import(`../src/commands/${m}.ts`)) as { command?: Command }).command;
    if (c) commands[m] = c;
  }
});

describe('introllm --help', () => {
  it('lists every registered command, one line each with its summary', () => {
    const names = commandNames();
    // Every module under src/commands/ that exports a command is registered under its file's name.
    expect(Object.keys(commands).length).toBeGreaterThan(15);
    for (const m of Object.keys(commands)) expect(names).toContain(m);
    expect(names).toContain('config');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'introllm.js'), '--help'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^ {2}\S/.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[0])).toEqual(names);
    const width = Math.max(...names.map((x) => x.length));
    for (const [n, c] of Object.entries(commands)) expect(lines).toContain(`  ${n.padEnd(width)}  ${c.summary}`);
  }, 60_000);

  it('every usage lists its presets from the preset tables', () => {
    const train = Object.keys(PRESETS).join('|');
    expect(train).toContain('quick|countdown|known-answer');
    for (const n of ['train', 'eval', 'config', 'headroom', 'instruments', 'bench']) expect(load(n).usage, n).toContain(`--preset ${train} (default: tiny)`);
    const studies = Object.keys(REPRODUCE_PRESETS).join('|');
    expect(studies).toContain('quick|countdown');
    for (const n of ['reproduce', 'ablate', 'select']) expect(load(n).usage, n).toContain(`--preset ${studies} (default: tiny)`);
    expect(load('ablate').usage).toContain(`--grid ${Object.keys(ABLATION_GRIDS).join('|')} | --grid-file`);
    expect(load('select').usage).toContain(`--grid ${Object.keys(SELECTION_GRIDS).join('|')} | --grid-file`);
    expect(load('sft').usage).toMatch(/--task [a-z|]*countdown[a-z|]* \(default: countdown\)/);
    for (const n of ['train', 'eval', 'config', 'reproduce', 'ablate', 'select', 'headroom', 'instruments', 'known-answer', 'bench']) {
      expect(load(n).usage, n).toContain('--config FILE');
    }
  });
});

describe("the study commands' output rule", () => {
  it('runs/<study> by default, the committed results/<study> with --reference, --out as given; not both', () => {
    expect(studyOutDir({}, 'tiny')).toBe(path.join('runs', 'tiny'));
    expect(studyOutDir({ reference: false }, path.join('ablations', 'tiny', 'gate'))).toBe(path.join('runs', 'ablations', 'tiny', 'gate'));
    expect(studyOutDir({ reference: true }, path.join('selection', 'tiny', 'lr-temp'))).toBe(path.join('results', 'selection', 'tiny', 'lr-temp'));
    expect(studyOutDir({ out: 'elsewhere' }, 'known-answer')).toBe('elsewhere');
    expectKitError(
      () => studyOutDir({ out: 'x', reference: true }, 'headroom/tiny'),
      '--reference writes the committed results/headroom/tiny/; give either it or --out, not both',
    );
    // Each study command says so in its usage.
    const rels: Record<string, string> = {
      reproduce: '<preset>',
      ablate: 'ablations/<preset>/<grid>',
      select: 'selection/<preset>/<grid>',
      headroom: 'headroom/<preset>',
      instruments: 'instruments/<preset>',
      'known-answer': 'known-answer',
    };
    for (const [n, rel] of Object.entries(rels))
      expect(load(n).usage, n).toContain(`[--out DIR | --reference] (default: runs/${rel}; --reference: the committed results/${rel})`);
  });
});
