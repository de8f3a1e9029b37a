// The WebAssembly text of the kit's SIMD matrix product for the wasm backend (see src/lm/kernels/gemm.ts).
//
// C[b] = A[b] · B[b] for row-major float32 matrices, B's columns contiguous, A with any strides (so Aᵀ costs nothing).
// A register block of R rows × 4V columns (R·V f32x4 accumulators) walks the shared dimension k. The arithmetic per
// output is exactly the one of tfjs-backend-wasm 4.22's own batched product (its generic loop, used for every
// product with a batch > 1): k runs in blocks of 48 from 0; inside a block the partial sum starts at 0 and adds
// a·b (an f32 multiply, then an f32 add: WebAssembly has no fused multiply-add); after a block the output adds the
// partial sum. Same operations in the same order, so the results are bit-identical (tests/lm/gemm.test.ts), and
// nothing the kit has recorded changes by switching to it.
//
// The module imports the backend's memory; every pointer is a byte offset into it. This file is generated into
// gemm.wat and assembled by scripts/build-gemm.ts; the test checks the committed binary against this source. A second
// build differs only in importing a shared memory (up to 4 GiB): the one the worker threads share (gemm-threads.ts).

/** tfjs-backend-wasm's k block (kBlockSize in its batch_mat_mul_impl.cc). */
export const K_BLOCK = 48;

/** Register blocks: rows × f32x4 vectors of columns. */
const BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [4, 2],
  [3, 2],
  [2, 4],
  [1, 4],
];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** $blk_R_V: C[0..R, 0..4V] of one register block (a = &A[m0, 0], b = &B[0, n0], c = &C[m0, n0]). */
function block(R: number, V: number): string {
  const acc = (i: number, j: number) => `$acc${i}_${j}`;
  const tot = (i: number, j: number) => `$tot${i}_${j}`;
  const cells = range(R).flatMap((i) => range(V).map((j) => [i, j] as const));
  const lines: string[] = [];
  lines.push(
    `  (func $blk_${R}_${V} (param $a i32) (param $b i32) (param $c i32) (param $K i32) (param $lda i32) (param $ak i32) (param $ldb i32) (param $ldc i32)`,
  );
  lines.push(`    (local $k i32) (local $kend i32) (local $av v128)`);
  lines.push(
    `    ${range(R)
      .map((i) => `(local $pa${i} i32)`)
      .join(' ')}`,
  );
  lines.push(
    `    ${range(V)
      .map((j) => `(local $bv${j} v128)`)
      .join(' ')}`,
  );
  lines.push(`    ${cells.map(([i, j]) => `(local ${acc(i, j)} v128) (local ${tot(i, j)} v128)`).join(' ')}`);
  for (const i of range(R)) lines.push(`    (local.set $pa${i} (i32.add (local.get $a) (i32.mul (i32.const ${i}) (local.get $lda))))`);
  lines.push(`    (block $done (loop $kb`);
  lines.push(`      (br_if $done (i32.ge_u (local.get $k) (local.get $K)))`);
  lines.push(
    `      (local.set $kend (select (i32.add (local.get $k) (i32.const ${K_BLOCK})) (local.get $K) (i32.lt_u (i32.add (local.get $k) (i32.const ${K_BLOCK})) (local.get $K))))`,
  );
  for (const [i, j] of cells) lines.push(`      (local.set ${acc(i, j)} (v128.const i32x4 0 0 0 0))`);
  lines.push(`      (block $kdone (loop $kl`);
  lines.push(`        (br_if $kdone (i32.ge_u (local.get $k) (local.get $kend)))`);
  for (const j of range(V)) lines.push(`        (local.set $bv${j} (v128.load offset=${16 * j} align=4 (local.get $b)))`);
  for (const i of range(R)) {
    lines.push(`        (local.set $av (f32x4.splat (f32.load align=4 (local.get $pa${i}))))`);
    for (const j of range(V))
      lines.push(`        (local.set ${acc(i, j)} (f32x4.add (local.get ${acc(i, j)}) (f32x4.mul (local.get $av) (local.get $bv${j}))))`);
    lines.push(`        (local.set $pa${i} (i32.add (local.get $pa${i}) (local.get $ak)))`);
  }
  lines.push(`        (local.set $b (i32.add (local.get $b) (local.get $ldb)))`);
  lines.push(`        (local.set $k (i32.add (local.get $k) (i32.const 1)))`);
  lines.push(`        (br $kl)))`);
  for (const [i, j] of cells) lines.push(`      (local.set ${tot(i, j)} (f32x4.add (local.get ${tot(i, j)}) (local.get ${acc(i, j)})))`);
  lines.push(`      (br $kb)))`);
  for (const [i, j] of cells) {
    lines.push(`    (v128.store offset=${16 * j} align=4 (i32.add (local.get $c) (i32.mul (i32.const ${i}) (local.get $ldc))) (local.get ${tot(i, j)}))`);
  }
  lines.push(`  )`);
  return lines.join('\n');
}

/** $dot: one output, scalar, same blocking (the columns that are left over after the vector blocks). */
function dot(): string {
  return `  (func $dot (param $a i32) (param $b i32) (param $K i32) (param $ak i32) (param $ldb i32) (result f32)
    (local $k i32) (local $kend i32) (local $acc f32) (local $tot f32)
    (block $done (loop $kb
      (br_if $done (i32.ge_u (local.get $k) (local.get $K)))
      (local.set $kend (select (i32.add (local.get $k) (i32.const ${K_BLOCK})) (local.get $K) (i32.lt_u (i32.add (local.get $k) (i32.const ${K_BLOCK})) (local.get $K))))
      (local.set $acc (f32.const 0))
      (block $kdone (loop $kl
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $kend)))
        (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load align=4 (local.get $a)) (f32.load align=4 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (local.get $ak)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kl)))
      (local.set $tot (f32.add (local.get $tot) (local.get $acc)))
      (br $kb)))
    (local.get $tot)
  )`;
}

/** $rows_R: R rows of C across all N columns: wide blocks, then 4-column blocks, then single columns. */
function rows(R: number, V: number): string {
  const args = `(local.get $a) (i32.add (local.get $b) (i32.shl (local.get $n) (i32.const 2))) (i32.add (local.get $c) (i32.shl (local.get $n) (i32.const 2))) (local.get $K) (local.get $lda) (local.get $ak) (local.get $ldb) (local.get $ldc)`;
  const narrow =
    V > 1
      ? `
    (block $d1 (loop $l1
      (br_if $d1 (i32.gt_u (i32.add (local.get $n) (i32.const 4)) (local.get $N)))
      (call $blk_${R}_1 ${args})
      (local.set $n (i32.add (local.get $n) (i32.const 4)))
      (br $l1)))`
      : '';
  const singles = range(R)
    .map(
      (i) => `
      (f32.store align=4 (i32.add (local.get $c) (i32.add (i32.mul (i32.const ${i}) (local.get $ldc)) (i32.shl (local.get $n) (i32.const 2))))
        (call $dot (i32.add (local.get $a) (i32.mul (i32.const ${i}) (local.get $lda))) (i32.add (local.get $b) (i32.shl (local.get $n) (i32.const 2))) (local.get $K) (local.get $ak) (local.get $ldb)))`,
    )
    .join('');
  return `  (func $rows_${R} (param $a i32) (param $b i32) (param $c i32) (param $K i32) (param $N i32) (param $lda i32) (param $ak i32) (param $ldb i32) (param $ldc i32)
    (local $n i32)
    (block $dw (loop $lw
      (br_if $dw (i32.gt_u (i32.add (local.get $n) (i32.const ${4 * V})) (local.get $N)))
      (call $blk_${R}_${V} ${args})
      (local.set $n (i32.add (local.get $n) (i32.const ${4 * V})))
      (br $lw)))${narrow}
    (block $ds (loop $ls
      (br_if $ds (i32.ge_u (local.get $n) (local.get $N)))${singles}
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $ls)))
  )`;
}

/**
 * The exported entry: gemm(a, b, c, batch, M, K, N, lda, ak, sa, sb). A(m, k) of batch item i is at
 * a + i·sa + m·lda + k·ak, B(k, n) at b + i·sb + k·4N + n·4 (sb = 0 broadcasts B), C(m, n) at c + i·4MN + (m·N + n)·4;
 * strides in bytes. Rows go in blocks of 4, then one block of the 3, 2 or 1 that are left.
 */
function entry(): string {
  const call = (R: number) =>
    `(call $rows_${R} (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $lda))) (local.get $pb) (i32.add (local.get $pc) (i32.mul (local.get $m) (local.get $ldc))) (local.get $K) (local.get $N) (local.get $lda) (local.get $ak) (local.get $ldb) (local.get $ldc))`;
  return `  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $batch i32) (param $M i32) (param $K i32) (param $N i32) (param $lda i32) (param $ak i32) (param $sa i32) (param $sb i32)
    (local $i i32) (local $m i32) (local $pa i32) (local $pb i32) (local $pc i32) (local $ldb i32) (local $ldc i32) (local $rest i32)
    (local.set $ldb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $N) (i32.const 2)))
    (block $db (loop $lb
      (br_if $db (i32.ge_u (local.get $i) (local.get $batch)))
      (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sa))))
      (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $i) (local.get $sb))))
      (local.set $pc (i32.add (local.get $c) (i32.mul (local.get $i) (i32.mul (local.get $M) (local.get $ldc)))))
      (local.set $m (i32.const 0))
      (block $dm (loop $lm
        (br_if $dm (i32.gt_u (i32.add (local.get $m) (i32.const 4)) (local.get $M)))
        ${call(4)}
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (br $lm)))
      (local.set $rest (i32.sub (local.get $M) (local.get $m)))
      (if (i32.eq (local.get $rest) (i32.const 3)) (then ${call(3)}))
      (if (i32.eq (local.get $rest) (i32.const 2)) (then ${call(2)}))
      (if (i32.eq (local.get $rest) (i32.const 1)) (then ${call(1)}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $lb)))
  )`;
}

/**
 * $stream_R: C[0..R, 0..N] for R ≤ 4 rows and N a multiple of 4, walking B row by row (B is read once, front to
 * back, which the hardware prefetches; the register blocks instead walk B's columns, one cache line per row, and wait
 * on memory). The partial sums of a k block live in the scratch rows s (R·N floats), four k at a time, so every
 * output sees the same operations in the same order as in the register blocks: bit-identical.
 */
function stream(R: number): string {
  const rows = range(R);
  const ks = range(4);
  const L: string[] = [];
  const vecLoop = (label: string, body: string[]) => [
    `      (local.set $n (i32.const 0))`,
    `      (block $${label}d (loop $${label}l`,
    `        (br_if $${label}d (i32.ge_u (local.get $n) (local.get $N4)))`,
    ...body.map((x) => `        ${x}`),
    `        (local.set $n (i32.add (local.get $n) (i32.const 16)))`,
    `        (br $${label}l)))`,
  ];
  const at = (base: string, r: number, ld: string) => `(i32.add (i32.add (local.get ${base}) (i32.mul (i32.const ${r}) (local.get ${ld}))) (local.get $n))`;
  L.push(`  (func $stream_${R} (param $a i32) (param $b i32) (param $c i32) (param $s i32) (param $K i32) (param $N i32) (param $lda i32) (param $ak i32)`);
  L.push(`    (local $k i32) (local $kend i32) (local $n i32) (local $N4 i32) (local $ldb i32) (local $pb i32) (local $sv v128)`);
  L.push(`    ${rows.map((r) => `(local $pa${r} i32)`).join(' ')} ${ks.map((j) => `(local $bv${j} v128)`).join(' ')}`);
  L.push(`    ${rows.flatMap((r) => ks.map((j) => `(local $av${r}_${j} v128)`)).join(' ')}`);
  L.push(`    (local.set $ldb (i32.shl (local.get $N) (i32.const 2)))`);
  L.push(`    (local.set $N4 (local.get $ldb))`);
  for (const r of rows) L.push(`    (local.set $pa${r} (i32.add (local.get $a) (i32.mul (i32.const ${r}) (local.get $lda))))`);
  // C = 0
  L.push(
    ...vecLoop(
      'z',
      rows.map((r) => `(v128.store align=4 ${at('$c', r, '$ldb')} (v128.const i32x4 0 0 0 0))`),
    ).map((x) => x.slice(2)),
  );
  L.push(`    (local.set $pb (local.get $b))`);
  L.push(`    (block $done (loop $kb`);
  L.push(`      (br_if $done (i32.ge_u (local.get $k) (local.get $K)))`);
  L.push(
    `      (local.set $kend (select (i32.add (local.get $k) (i32.const ${K_BLOCK})) (local.get $K) (i32.lt_u (i32.add (local.get $k) (i32.const ${K_BLOCK})) (local.get $K))))`,
  );
  L.push(
    ...vecLoop(
      's0',
      rows.map((r) => `(v128.store align=4 ${at('$s', r, '$ldb')} (v128.const i32x4 0 0 0 0))`),
    ),
  );
  // four k at a time, then one at a time
  for (const [label, nk] of [
    ['q', 4],
    ['o', 1],
  ] as const) {
    L.push(`      (block $${label}done (loop $${label}k`);
    L.push(`        (br_if $${label}done (i32.gt_u (i32.add (local.get $k) (i32.const ${nk})) (local.get $kend)))`);
    for (const r of rows)
      for (const j of range(nk)) {
        L.push(`        (local.set $av${r}_${j} (f32x4.splat (f32.load align=4 (i32.add (local.get $pa${r}) (i32.mul (i32.const ${j}) (local.get $ak))))))`);
      }
    const body: string[] = [];
    for (const j of range(nk))
      body.push(`(local.set $bv${j} (v128.load align=4 (i32.add (i32.add (local.get $pb) (i32.mul (i32.const ${j}) (local.get $ldb))) (local.get $n))))`);
    for (const r of rows) {
      body.push(`(local.set $sv (v128.load align=4 ${at('$s', r, '$ldb')}))`);
      for (const j of range(nk)) body.push(`(local.set $sv (f32x4.add (local.get $sv) (f32x4.mul (local.get $av${r}_${j}) (local.get $bv${j}))))`);
      body.push(`(v128.store align=4 ${at('$s', r, '$ldb')} (local.get $sv))`);
    }
    L.push(...vecLoop(`${label}n`, body).map((x) => '  ' + x));
    for (const r of rows) L.push(`        (local.set $pa${r} (i32.add (local.get $pa${r}) (i32.mul (i32.const ${nk}) (local.get $ak))))`);
    L.push(`        (local.set $pb (i32.add (local.get $pb) (i32.mul (i32.const ${nk}) (local.get $ldb))))`);
    L.push(`        (local.set $k (i32.add (local.get $k) (i32.const ${nk})))`);
    L.push(`        (br $${label}k)))`);
  }
  L.push(
    ...vecLoop(
      't',
      rows.map(
        (r) => `(v128.store align=4 ${at('$c', r, '$ldb')} (f32x4.add (v128.load align=4 ${at('$c', r, '$ldb')}) (v128.load align=4 ${at('$s', r, '$ldb')})))`,
      ),
    ),
  );
  L.push(`      (br $kb)))`);
  L.push(`  )`);
  return L.join('\n');
}

/**
 * The exported row-streaming entry: gemv(a, b, c, s, M, K, N, lda, ak) for M ≤ 4 and N a multiple of 4 (the caller
 * checks both), one 2-D product; s is scratch for M·N floats.
 */
function streamEntry(): string {
  const call = (R: number) =>
    `(call $stream_${R} (local.get $a) (local.get $b) (local.get $c) (local.get $s) (local.get $K) (local.get $N) (local.get $lda) (local.get $ak))`;
  return `  (func (export "gemv") (param $a i32) (param $b i32) (param $c i32) (param $s i32) (param $M i32) (param $K i32) (param $N i32) (param $lda i32) (param $ak i32)
${range(4)
  .map((i) => `    (if (i32.eq (local.get $M) (i32.const ${i + 1})) (then ${call(i + 1)}))`)
  .join('\n')}
  )`;
}

/** The whole module's text; `shared`: importing a shared memory (the worker threads' build). */
export function gemmWat(shared = false): string {
  const parts = ['(module', shared ? '  (import "env" "memory" (memory 1 65536 shared))' : '  (import "env" "memory" (memory 1))'];
  const made = new Set<string>();
  for (const [R, V] of BLOCKS) {
    for (const v of V > 1 ? [V, 1] : [V]) {
      if (made.has(`${R}_${v}`)) continue;
      made.add(`${R}_${v}`);
      parts.push(block(R, v));
    }
  }
  parts.push(dot());
  for (const [R, V] of BLOCKS) parts.push(rows(R, V));
  parts.push(entry());
  for (const R of range(4)) parts.push(stream(R + 1));
  parts.push(streamEntry());
  parts.push(')');
  return parts.join('\n') + '\n';
}
