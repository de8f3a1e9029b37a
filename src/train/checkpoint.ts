// Crash-safe run checkpoints: the trainable variables (θ and φ), the optimiser states and a JSON state (step,
// controller state, anything the loop needs), written so that a SIGKILL at any moment leaves a complete checkpoint.
//
// Layout under the run folder: ckpt/ (tensors.safetensors + state.json). A save writes ckpt.tmp/ and swaps it in
// with two renames (ckpt → ckpt.old, ckpt.tmp → ckpt); a load takes ckpt/, or ckpt.old/ when a kill fell between the
// renames. Variables are matched by position and shape (TF.js variable names carry a process-dependent counter).
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { SafetensorsReader, writeSafetensorsStreaming } from '../lm/safetensors';
import { OptimizerState, optimizerState, ParamGroup, restoreOptimizer } from './optimizer';

export interface CheckpointContent {
  /** Named variable lists, e.g. { theta: model.variables(), phi: controller.variables() }. */
  variables: Record<string, readonly tf.Variable[]>;
  optimizers: ParamGroup[];
  /** JSON state: step, controller state, … */
  state: Record<string, unknown>;
}

const CKPT = 'ckpt';

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch {
    // Not every file system allows fsync on a directory; the renames are still atomic.
  }
}

/** Writes a checkpoint of `c` into runDir/ckpt atomically. */
export async function saveCheckpoint(runDir: string, c: CheckpointContent): Promise<void> {
  const tmp = path.join(runDir, `${CKPT}.tmp`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // Variables are streamed to the file one at a time (a 0.5B model's θ is 2 GB: never all on the host at once);
  // optimiser slots are read to the host first (they are empty for a group that never stepped, e.g. θ when frozen).
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const live = new Map<string, tf.Variable>();
  for (const [group, vars] of Object.entries(c.variables)) {
    for (let i = 0; i < vars.length; i++) live.set(`${group}/${i}`, vars[i]);
  }
  const opts: (Omit<OptimizerState, 'weights'> & { weights: { name: string; shape: number[]; dtype: string; key: string }[] })[] = [];
  for (const g of c.optimizers) {
    const s = await optimizerState(g);
    opts.push({
      ...s,
      weights: s.weights.map((w, j) => {
        const key = `opt/${g.name}/${j}`;
        // A host optimiser's moments are its own arrays: written as they are, not copied (a 0.5B θ's are 4.8 GB).
        tensors.set(key, { shape: w.shape.length ? w.shape : [1], data: w.data instanceof Float32Array ? w.data : Float32Array.from(w.data) });
        return { name: w.name, shape: w.shape, dtype: w.dtype, key };
      }),
    });
  }
  const specs = [...[...live].map(([name, v]) => ({ name, shape: v.shape.slice() })), ...[...tensors].map(([name, t]) => ({ name, shape: t.shape }))];
  writeSafetensorsStreaming(path.join(tmp, 'tensors.safetensors'), specs, (name) => {
    const v = live.get(name);
    return v ? (v.dataSync() as Float32Array) : tensors.get(name)!.data;
  });
  const counts = Object.fromEntries(Object.entries(c.variables).map(([k, v]) => [k, v.map((x) => x.shape)]));
  writeJsonAtomic(path.join(tmp, 'state.json'), { version: 1, state: c.state, variableShapes: counts, optimizers: opts });
  fsyncDir(tmp);
  const cur = path.join(runDir, CKPT);
  const old = path.join(runDir, `${CKPT}.old`);
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(cur)) fs.renameSync(cur, old);
  fs.renameSync(tmp, cur);
  fsyncDir(runDir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The folder of the last complete checkpoint under runDir, or null. */
export function findCheckpoint(runDir: string): string | null {
  for (const name of [CKPT, `${CKPT}.old`]) {
    const d = path.join(runDir, name);
    if (fs.existsSync(path.join(d, 'state.json')) && fs.existsSync(path.join(d, 'tensors.safetensors'))) return d;
  }
  return null;
}

/**
 * Restores variables and optimisers from runDir's checkpoint into `c` (same structure as saved) and returns the saved
 * JSON state, or null when there is no checkpoint.
 */
export async function loadCheckpoint(runDir: string, c: Omit<CheckpointContent, 'state'>): Promise<Record<string, unknown> | null> {
  const dir = findCheckpoint(runDir);
  if (!dir) return null;
  const where = path.join(dir, 'state.json');
  type SavedRef = { name: string; shape: number[]; dtype: string; key: string };
  let meta: { state: Record<string, unknown>; optimizers: (Omit<OptimizerState, 'weights'> & { weights: SavedRef[] })[] };
  try {
    meta = JSON.parse(fs.readFileSync(where, 'utf8'));
  } catch (e) {
    throw new KitError(`${where}: unreadable checkpoint state (${(e as Error).message})`);
  }
  // Tensor by tensor: each variable is read, assigned and dropped before the next (see saveCheckpoint).
  const reader = SafetensorsReader.open(path.join(dir, 'tensors.safetensors'));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  try {
    const shapes = new Map(reader.tensors.map((t) => [t.name, t.shape]));
    for (const [group, vars] of Object.entries(c.variables)) {
      for (let i = 0; i < vars.length; i++) {
        const shape = shapes.get(`${group}/${i}`);
        if (!shape) throw new KitError(`${dir}: checkpoint has no tensor '${group}/${i}' (it was saved by a run with another model or controller)`);
        if (shape.join(',') !== vars[i].shape.join(',')) {
          throw new KitError(`${dir}: tensor '${group}/${i}' has shape [${shape}], the current ${group} variable is [${vars[i].shape}]`);
        }
      }
    }
    for (const [group, vars] of Object.entries(c.variables)) {
      for (let i = 0; i < vars.length; i++) {
        const value = tf.tensor(reader.read(`${group}/${i}`), vars[i].shape);
        vars[i].assign(value);
        value.dispose();
      }
    }
    for (const t of reader.tensors) if (t.name.startsWith('opt/')) tensors.set(t.name, { shape: t.shape, data: reader.read(t.name) });
  } finally {
    reader.close();
  }
  for (const g of c.optimizers) {
    const s = meta.optimizers.find((o) => o.name === g.name);
    if (!s) throw new KitError(`${dir}: checkpoint has no optimiser state for '${g.name}'`);
    await restoreOptimizer(g, {
      ...s,
      weights: s.weights.map((w) => {
        const t = tensors.get(w.key);
        if (!t) throw new KitError(`${dir}: checkpoint misses optimiser tensor '${w.key}'`);
        return { name: w.name, shape: w.shape, dtype: w.dtype as 'float32' | 'int32', data: w.dtype === 'int32' ? Int32Array.from(t.data) : t.data };
      }),
    });
  }
  return meta.state;
}
