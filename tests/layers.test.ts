// The library's layers, read from its import statements: no module imports (at run time) a module that imports it
// back, and the lower layers do not reach up. Layers, lowest first: the base (errors, rng, stats, io), lm (the
// decoder, tokenizers, checkpoints), tasks, policy (temperature controllers), train (optimiser state, checkpoints,
// run folders), rl (rollouts, GRPO, the trainer), eval, plots, and above them plan, backend, experiments, bench and
// commands. `import type` is erased at run time and still counts for the layer rules, not for the cycles.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(__dirname, '..', 'src');

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import and re-export of src/, as module paths relative to src/ without '.ts'. */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = path.relative(SRC, file).replace(/\.ts$/, '');
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
      let to = path.relative(SRC, path.resolve(path.dirname(file), m[2]));
      if (fs.existsSync(path.join(SRC, to)) && fs.statSync(path.join(SRC, to)).isDirectory()) to = path.join(to, 'index');
      edges.push({ from, to: to.replace(/\.ts$/, ''), typeOnly: m[1] !== undefined });
    }
  }
  return edges;
}

/** A module's layer: its top folder under src/, or the file for top-level modules (config, backend, …). */
const layerOf = (mod: string) => mod.split(path.sep)[0];

const edges = importEdges();

describe('layers', () => {
  it('reads a plausible graph (the test would pass vacuously on an empty one)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges.some((e) => e.from === path.join('rl', 'trainer') && e.to === path.join('rl', 'rollout'))).toBe(true);
  });

  it('no module imports, at run time, a module that imports it back (directly or around a loop)', () => {
    const next = new Map<string, string[]>();
    for (const e of edges) if (!e.typeOnly) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (m: string, trail: string[]) => {
      if (state.get(m) === 'done') return;
      if (state.get(m) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(m)), m].join(' → '));
        return;
      }
      state.set(m, 'open');
      for (const n of next.get(m) ?? []) visit(n, [...trail, m]);
      state.set(m, 'done');
    };
    for (const m of next.keys()) visit(m, []);
    expect(cycles).toEqual([]);
  });

  // What each lower layer may import besides itself.
  const allowed: Record<string, string[]> = {
    errors: [],
    rng: ['errors'],
    stats: ['errors', 'rng'],
    io: ['errors'],
    lm: ['errors', 'rng', 'stats', 'io'],
    tasks: ['errors', 'rng', 'stats', 'io', 'lm'],
    policy: ['errors', 'rng', 'stats', 'io', 'lm', 'tasks'],
    train: ['errors', 'rng', 'stats', 'io', 'lm'],
  };
  for (const [layer, may] of Object.entries(allowed)) {
    it(`${layer} imports only from ${may.length ? may.join(', ') : 'nothing else'}`, () => {
      const bad = edges
        .filter((e) => layerOf(e.from).replace(/\.ts$/, '') === layer && layerOf(e.to) !== layer && !may.includes(layerOf(e.to)))
        .map((e) => `${e.from} → ${e.to}`);
      expect(bad).toEqual([]);
    });
  }

  it('the loader knows nothing of backends or plans; rollouts and GRPO nothing of the trainer, evaluation or the config file', () => {
    const reach = (from: RegExp, to: RegExp) => edges.filter((e) => from.test(e.from) && to.test(e.to)).map((e) => `${e.from} → ${e.to}`);
    expect(reach(/^lm\//, /^(backend|plan\/)/)).toEqual([]);
    expect(reach(/^rl\/(rollout|grpo)/, /^(rl\/trainer|eval\/|experiments\/|commands\/|plots\/)/)).toEqual([]);
    expect(reach(/^(eval|plots)\//, /^(experiments|commands)\//)).toEqual([]);
  });
});
