// Hugging Face model folders: weights from `model.safetensors` or a sharded `model.safetensors.index.json`, checked
// against the tensors a DecoderConfig needs (names and shapes from expectedWeights), and the kit's own saves
// (config.json + safetensors, optionally sharded), all written atomically.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { DecoderConfig, expectedWeights, toHfConfig } from './config';
import { HostTensor, numel, readSafetensors, SafetensorsReader, StoredDtype, TensorData, writeSafetensorsStreaming } from './safetensors';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
const SHARD_RE = /^model-\d{5}-of-\d{5}\.safetensors$/;
/** Buffers some exporters save that are not parameters (recomputed from the config). */
const NON_PARAMETER_RE = /(^|\.)rotary_emb\.inv_freq$/;

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;
const listSome = (names: string[], n = 5): string =>
  names
    .slice(0, n)
    .map((x) => `'${x}'`)
    .join(', ') + (names.length > n ? ` and ${names.length - n} more` : '');

function requireFolder(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new KitError(`model folder not found: ${dir}`);
  }
  if (!st.isDirectory()) throw new KitError(`${dir}: not a folder (expected a Hugging Face model folder)`);
}

/**
 * The tensors of a model folder, opened but not read: names, shapes and dtypes from the headers, and read(name) to
 * load one tensor at a time (so a 2 GB checkpoint can go to the device tensor by tensor, never whole in host memory).
 */
export interface CheckpointSource {
  /** Tensor name → its HF shape, in file (then header) order. */
  readonly shapes: Map<string, number[]>;
  /** Tensor name → the dtype it is stored in. */
  readonly dtypes: Map<string, StoredDtype>;
  /** The tensor as float32, read from disk now. */
  read(name: string): Float32Array;
  close(): void;
}

/**
 * Opens a model folder's weights: `model.safetensors` if present (as transformers prefers it), else the shards named
 * by `model.safetensors.index.json`'s weight_map. Every header is read and checked now; no tensor data is.
 */
export function openCheckpoint(dir: string): CheckpointSource {
  requireFolder(dir);
  const single = path.join(dir, SINGLE_FILE);
  if (fs.existsSync(single)) {
    const r = SafetensorsReader.open(single);
    return {
      shapes: new Map(r.tensors.map((t) => [t.name, t.shape])),
      dtypes: new Map(r.tensors.map((t) => [t.name, t.dtype])),
      read: (n) => r.read(n),
      close: () => r.close(),
    };
  }
  const indexFile = path.join(dir, INDEX_FILE);
  if (!fs.existsSync(indexFile)) {
    const bin = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].filter((f) => fs.existsSync(path.join(dir, f)));
    throw new KitError(
      `${dir}: no weights found; looked for ${SINGLE_FILE} and ${INDEX_FILE}` +
        (bin.length ? ` (found ${bin.join(', ')}: PyTorch pickles are not supported, convert them to safetensors)` : ''),
    );
  }
  let index: unknown;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw new KitError(`${indexFile}: not valid JSON (${(e as Error).message})`);
  }
  const wm = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    throw new KitError(`${indexFile}: expected an object with a 'weight_map' object (tensor name → shard file)`);
  }
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '' || path.isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
      throw new KitError(`${indexFile}: weight_map entry '${name}' must name a shard file inside the folder, got ${JSON.stringify(shard)}`);
    }
    if (!byShard.has(shard)) byShard.set(shard, []);
    byShard.get(shard)!.push(name);
  }
  const readers: SafetensorsReader[] = [];
  const closeAll = () => readers.forEach((r) => r.close());
  try {
    const shapes = new Map<string, number[]>();
    const dtypes = new Map<string, StoredDtype>();
    const owner = new Map<string, SafetensorsReader>();
    const origin = new Map<string, string>();
    for (const [shard, names] of byShard) {
      const shardFile = path.join(dir, shard);
      if (!fs.existsSync(shardFile)) {
        throw new KitError(`${indexFile}: shard '${shard}' (listed for tensor '${names[0]}') not found: ${shardFile}`);
      }
      const r = SafetensorsReader.open(shardFile);
      readers.push(r);
      for (const name of names) {
        if (!r.has(name)) throw new KitError(`${indexFile}: tensor '${name}' is listed in shard '${shard}' but ${shardFile} does not hold it`);
      }
      for (const t of r.tensors) {
        if (owner.has(t.name)) throw new KitError(`${dir}: tensor '${t.name}' appears in both ${origin.get(t.name)} and ${shard}`);
        shapes.set(t.name, t.shape);
        dtypes.set(t.name, t.dtype);
        owner.set(t.name, r);
        origin.set(t.name, shard);
      }
    }
    return {
      shapes,
      dtypes,
      read: (n) => {
        const r = owner.get(n);
        if (!r) throw new KitError(`${dir}: no tensor '${n}'`);
        return r.read(n);
      },
      close: closeAll,
    };
  } catch (e) {
    closeAll();
    throw e;
  }
}

/**
 * Every tensor of a model folder (all in host memory at once; see openCheckpoint for one at a time), with the dtype
 * each was stored in.
 */
export function loadCheckpoint(dir: string): Map<string, HostTensor> {
  requireFolder(dir);
  const single = path.join(dir, SINGLE_FILE);
  if (fs.existsSync(single)) return readSafetensors(single);
  const src = openCheckpoint(dir);
  try {
    const out = new Map<string, HostTensor>();
    for (const [name, shape] of src.shapes) out.set(name, { shape: [...shape], data: src.read(name), dtype: src.dtypes.get(name)! });
    return out;
  } finally {
    src.close();
  }
}

/**
 * Checks `weights` against the tensors `cfg` needs and returns them in expectedWeights order. Drops `lm_head.weight`
 * when the embeddings are tied and `*.rotary_emb.inv_freq` buffers; anything missing, misshapen or unknown is an error.
 */
export function checkWeights<T extends { shape: readonly number[] }>(weights: Map<string, T>, cfg: DecoderConfig, where: string): Map<string, T> {
  const expected = expectedWeights(cfg);
  const missing = [...expected.keys()].filter((n) => !weights.has(n));
  if (missing.length) {
    throw new KitError(`${where}: missing tensor${missing.length > 1 ? 's' : ''} ${listSome(missing)} (needed by the ${cfg.modelType} config)`);
  }
  const unexpected: string[] = [];
  for (const name of weights.keys()) {
    if (expected.has(name) || NON_PARAMETER_RE.test(name)) continue;
    if (name === 'lm_head.weight' && cfg.tieWordEmbeddings) continue;
    unexpected.push(name);
  }
  if (unexpected.length) {
    throw new KitError(
      `${where}: unexpected tensor${unexpected.length > 1 ? 's' : ''} ${listSome(unexpected)} ` +
        `(not part of a ${cfg.modelType} model with this config${unexpected.some((n) => n === 'lm_head.weight') ? '; lm_head.weight with tie_word_embeddings=false?' : ''})`,
    );
  }
  const out = new Map<string, T>();
  for (const [name, shape] of expected) {
    const t = weights.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new KitError(`${where}: tensor '${name}' has shape ${shapeStr(t.shape)}, expected ${shapeStr(shape)} from the config`);
    }
    out.set(name, t);
  }
  return out;
}

/** loadCheckpoint + checkWeights: the weights of a model folder, exactly the tensors `cfg` needs. */
export function loadModelWeights(dir: string, cfg: DecoderConfig): Map<string, HostTensor> {
  return checkWeights(loadCheckpoint(dir), cfg, dir);
}

/** checkWeights on shapes alone (e.g. a WeightSource's, before any tensor is read): the needed ones, in expectedWeights order. */
export function checkShapes(shapes: Map<string, readonly number[]>, cfg: DecoderConfig, where: string): Map<string, readonly number[]> {
  const checked = checkWeights(new Map([...shapes].map(([n, shape]) => [n, { shape }])), cfg, where);
  return new Map([...checked].map(([n, t]) => [n, t.shape]));
}

/** A source of host weights by HF name, read one tensor at a time: an open checkpoint, or a Decoder's variables. */
export interface WeightSource {
  /** HF name → shape (HF layout). */
  readonly shapes: Map<string, readonly number[]>;
  read(name: string): Float32Array;
}

/**
 * openCheckpoint + checkWeights on the headers: the folder's weights, exactly the tensors `cfg` needs (shapes in
 * expectedWeights order), each read only when asked for. Every error loadModelWeights reports is reported here
 * before any data is read. close() when done.
 */
export function openModelWeights(dir: string, cfg: DecoderConfig): WeightSource & { close(): void } {
  const src = openCheckpoint(dir);
  try {
    return { shapes: checkShapes(src.shapes, cfg, dir), read: (n) => src.read(n), close: () => src.close() };
  } catch (e) {
    src.close();
    throw e;
  }
}

export interface SaveOptions {
  /** On-disk dtype (default F32). */
  dtype?: StoredDtype;
  /** When set and the weights take more bytes, write shards of at most this size (one tensor per shard if larger). */
  maxShardBytes?: number;
}

const TORCH_DTYPE: Record<StoredDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * Writes a Hugging Face model folder: config.json and model.safetensors, or shards
 * model-0000i-of-0000N.safetensors + model.safetensors.index.json. Weight files of an earlier save in another
 * layout are removed, in an order such that an interrupted save never leaves old weights that would load in place
 * of the new ones (at worst the folder has no loadable weights and says so).
 */
export function saveModelFolder(dir: string, cfg: DecoderConfig, weights: Map<string, TensorData> | WeightSource, opts: SaveOptions = {}): void {
  const dtype = opts.dtype ?? 'F32';
  const bytesPer = dtype === 'F32' ? 4 : 2;
  // Either host tensors (all in memory) or a source read tensor by tensor while each file is streamed out.
  const source: WeightSource = weights instanceof Map ? mapSource(weights, `saving ${dir}`) : weights;
  const checked = checkShapes(source.shapes, cfg, `saving ${dir}`);
  if (opts.maxShardBytes !== undefined && !(Number.isSafeInteger(opts.maxShardBytes) && opts.maxShardBytes > 0)) {
    throw new KitError(`saving ${dir}: maxShardBytes must be a positive integer, got ${opts.maxShardBytes}`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const names = [...checked.keys()].sort();
  const total = names.reduce((s, n) => s + numel(checked.get(n)!) * bytesPer, 0);
  const metadata = { format: 'pt' };
  const written = new Set<string>();
  const specs = (group: string[]) => group.map((n) => ({ name: n, shape: [...checked.get(n)!] }));
  if (opts.maxShardBytes === undefined || total <= opts.maxShardBytes) {
    writeSafetensorsStreaming(path.join(dir, SINGLE_FILE), specs(names), (n) => source.read(n), { dtype, metadata });
    written.add(SINGLE_FILE);
  } else {
    const shards: string[][] = [];
    let size = 0;
    for (const n of names) {
      const b = numel(checked.get(n)!) * bytesPer;
      if (shards.length === 0 || size + b > opts.maxShardBytes) {
        shards.push([]);
        size = 0;
      }
      shards[shards.length - 1].push(n);
      size += b;
    }
    const pad = (i: number): string => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    shards.forEach((group, i) => {
      const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
      writeSafetensorsStreaming(path.join(dir, file), specs(group), (n) => source.read(n), { dtype, metadata });
      for (const n of group) weightMap[n] = file;
      written.add(file);
    });
    // A leftover model.safetensors would win over the new index (loadCheckpoint prefers it): remove it first.
    fs.rmSync(path.join(dir, SINGLE_FILE), { force: true });
    writeJsonAtomic(path.join(dir, INDEX_FILE), { metadata: { total_size: total }, weight_map: weightMap });
    written.add(INDEX_FILE);
  }
  writeJsonAtomic(path.join(dir, 'config.json'), { ...toHfConfig(cfg), torch_dtype: TORCH_DTYPE[dtype] });
  for (const f of fs.readdirSync(dir)) {
    if ((f === SINGLE_FILE || f === INDEX_FILE || SHARD_RE.test(f)) && !written.has(f)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** Host tensors as a WeightSource, each checked to hold a Float32Array of its shape's size before anything is written. */
function mapSource(weights: Map<string, TensorData>, where: string): WeightSource {
  for (const [name, t] of weights) {
    if (!t || !(t.data instanceof Float32Array)) throw new KitError(`${where}: tensor '${name}': data must be a Float32Array`);
    const n = numel(t.shape);
    if (n !== t.data.length) throw new KitError(`${where}: tensor '${name}': shape ${shapeStr(t.shape)} needs ${n} values, data has ${t.data.length}`);
  }
  return { shapes: new Map([...weights].map(([n, t]) => [n, t.shape])), read: (n) => weights.get(n)!.data };
}
