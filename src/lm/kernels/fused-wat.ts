// The WebAssembly text of the kit's fused elementwise kernels for the wasm backend (see src/lm/kernels/fused.ts):
// RMSNorm and its gradient, RoPE (and its transpose, which is its gradient), and the product and gradient of the MLP's
// SiLU(gate) · up given σ(gate). f32x4 SIMD over the last axis, a scalar loop for the ragged end. The module imports the
// backend's memory; every pointer is a byte offset into it. Assembled by scripts/build-gemm.ts into fused-binary.ts;
// a test checks the committed binary against this source.
//
// Arithmetic, so that the forward kernels give the composed tfjs ops' values:
// * rmsnorm: the mean of squares summed in order in f32 (x·x, then added; as tfjs-wasm's Square and Mean), divided by
//   d, plus eps, inv = 1 / sqrt (f32 ops, as Rsqrt), then (x · inv) · w, each product rounded (two Multiply kernels);
// * silu_mul: (g · s) · u with s = σ(g) from tfjs's own Sigmoid kernel;
// * rope: x·cos + rotate_half(x)·sin, each product rounded, then the sum.
// The gradients are written out (no composed op to match): see each function.

const hsum = (v: string) =>
  `(f32.add (f32.add (f32x4.extract_lane 0 ${v}) (f32x4.extract_lane 1 ${v})) (f32.add (f32x4.extract_lane 2 ${v}) (f32x4.extract_lane 3 ${v})))`;

/** The module's text. */
export function fusedWat(): string {
  return `(module
  (import "env" "memory" (memory 1))

  ;; y[r, :] = (x[r, :] · inv_r) · w, inv_r = 1 / sqrt(Σ_j x[r, j]² / d + eps), for rows r < n. Pointers in bytes.
  (func $rmsnorm (export "rmsnorm") (param $x i32) (param $w i32) (param $y i32) (param $n i32) (param $d i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $p i32) (local $q i32) (local $d4 i32) (local $row i32)
    (local $ss f32) (local $inv f32) (local $v f32) (local $iv v128)
    (local.set $d4 (i32.and (local.get $d) (i32.const -4)))
    (local.set $row (i32.shl (local.get $d) (i32.const 2)))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $r) (local.get $n)))
      (local.set $p (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $row))))
      (local.set $q (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $row))))
      ;; the sum of squares, in order (as tfjs's Mean)
      (local.set $ss (f32.const 0))
      (local.set $j (i32.const 0))
      (block $s_done (loop $s
        (br_if $s_done (i32.ge_u (local.get $j) (local.get $d)))
        (local.set $v (f32.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $ss (f32.add (local.get $ss) (f32.mul (local.get $v) (local.get $v))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $s)))
      (local.set $inv (f32.div (f32.const 1)
        (f32.sqrt (f32.add (f32.div (local.get $ss) (f32.convert_i32_u (local.get $d))) (local.get $eps)))))
      (local.set $iv (f32x4.splat (local.get $inv)))
      (local.set $j (i32.const 0))
      (block $v_done (loop $vl
        (br_if $v_done (i32.ge_u (local.get $j) (local.get $d4)))
        (v128.store align=4 (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))
          (f32x4.mul
            (f32x4.mul (v128.load align=4 (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))) (local.get $iv))
            (v128.load align=4 (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vl)))
      (block $t_done (loop $t
        (br_if $t_done (i32.ge_u (local.get $j) (local.get $d)))
        (f32.store (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))
          (f32.mul
            (f32.mul (f32.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))) (local.get $inv))
            (f32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $t)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows)))
  )

  ;; RMSNorm's gradient for rows r < n. With inv_r as above and c_r = (Σ_j dy·w·x) · inv_r³ / d:
  ;;   dx[r, j] = inv_r · (dy[r, j] · w[j]) − x[r, j] · c_r,   dw[j] = Σ_r dy[r, j] · (x[r, j] · inv_r)   (dw zeroed here)
  (func $rmsnorm_grad (export "rmsnorm_grad") (param $x i32) (param $w i32) (param $dy i32) (param $dx i32) (param $dw i32)
    (param $n i32) (param $d i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $o i32) (local $d4 i32) (local $row i32)
    (local $ss f32) (local $dot f32) (local $inv f32) (local $c f32) (local $v f32) (local $g f32)
    (local $sv v128) (local $tv v128) (local $xv v128) (local $gv v128) (local $iv v128) (local $cv v128)
    (local.set $d4 (i32.and (local.get $d) (i32.const -4)))
    (local.set $row (i32.shl (local.get $d) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $z_done (loop $z
      (br_if $z_done (i32.ge_u (local.get $j) (local.get $d)))
      (f32.store (i32.add (local.get $dw) (i32.shl (local.get $j) (i32.const 2))) (f32.const 0))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $z)))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $r) (local.get $n)))
      (local.set $o (i32.mul (local.get $r) (local.get $row)))
      ;; Σ x² and Σ dy·w·x, four lanes each, then the ragged end
      (local.set $sv (v128.const i32x4 0 0 0 0))
      (local.set $tv (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $s_done (loop $s
        (br_if $s_done (i32.ge_u (local.get $j) (local.get $d4)))
        (local.set $xv (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $gv (f32x4.mul
          (v128.load align=4 (i32.add (i32.add (local.get $dy) (local.get $o)) (i32.shl (local.get $j) (i32.const 2))))
          (v128.load align=4 (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $sv (f32x4.add (local.get $sv) (f32x4.mul (local.get $xv) (local.get $xv))))
        (local.set $tv (f32x4.add (local.get $tv) (f32x4.mul (local.get $gv) (local.get $xv))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $s)))
      (local.set $ss ${hsum('(local.get $sv)')})
      (local.set $dot ${hsum('(local.get $tv)')})
      (block $st_done (loop $st
        (br_if $st_done (i32.ge_u (local.get $j) (local.get $d)))
        (local.set $v (f32.load (i32.add (i32.add (local.get $x) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $g (f32.mul
          (f32.load (i32.add (i32.add (local.get $dy) (local.get $o)) (i32.shl (local.get $j) (i32.const 2))))
          (f32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $ss (f32.add (local.get $ss) (f32.mul (local.get $v) (local.get $v))))
        (local.set $dot (f32.add (local.get $dot) (f32.mul (local.get $g) (local.get $v))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $st)))
      (local.set $inv (f32.div (f32.const 1)
        (f32.sqrt (f32.add (f32.div (local.get $ss) (f32.convert_i32_u (local.get $d))) (local.get $eps)))))
      (local.set $c (f32.div (f32.mul (local.get $dot) (f32.mul (local.get $inv) (f32.mul (local.get $inv) (local.get $inv))))
        (f32.convert_i32_u (local.get $d))))
      (local.set $iv (f32x4.splat (local.get $inv)))
      (local.set $cv (f32x4.splat (local.get $c)))
      (local.set $j (i32.const 0))
      (block $v_done (loop $vl
        (br_if $v_done (i32.ge_u (local.get $j) (local.get $d4)))
        (local.set $xv (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $sv (v128.load align=4 (i32.add (i32.add (local.get $dy) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))))
        (v128.store align=4 (i32.add (i32.add (local.get $dx) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))
          (f32x4.sub
            (f32x4.mul (local.get $iv) (f32x4.mul (local.get $sv) (v128.load align=4 (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
            (f32x4.mul (local.get $xv) (local.get $cv))))
        (v128.store align=4 (i32.add (local.get $dw) (i32.shl (local.get $j) (i32.const 2)))
          (f32x4.add (v128.load align=4 (i32.add (local.get $dw) (i32.shl (local.get $j) (i32.const 2))))
            (f32x4.mul (local.get $sv) (f32x4.mul (local.get $xv) (local.get $iv)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vl)))
      (block $t_done (loop $t
        (br_if $t_done (i32.ge_u (local.get $j) (local.get $d)))
        (local.set $v (f32.load (i32.add (i32.add (local.get $x) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $g (f32.load (i32.add (i32.add (local.get $dy) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))))
        (f32.store (i32.add (i32.add (local.get $dx) (local.get $o)) (i32.shl (local.get $j) (i32.const 2)))
          (f32.sub
            (f32.mul (local.get $inv) (f32.mul (local.get $g) (f32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
            (f32.mul (local.get $v) (local.get $c))))
        (f32.store (i32.add (local.get $dw) (i32.shl (local.get $j) (i32.const 2)))
          (f32.add (f32.load (i32.add (local.get $dw) (i32.shl (local.get $j) (i32.const 2))))
            (f32.mul (local.get $g) (f32.mul (local.get $v) (local.get $inv)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $t)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows)))
  )

  ;; y = (g · s) · u over n elements (s = σ(g)).
  (func $silu_mul (export "silu_mul") (param $g i32) (param $s i32) (param $u i32) (param $y i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $o i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $v_done (loop $vl
      (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (v128.store align=4 (i32.add (local.get $y) (local.get $o))
        (f32x4.mul
          (f32x4.mul (v128.load align=4 (i32.add (local.get $g) (local.get $o))) (v128.load align=4 (i32.add (local.get $s) (local.get $o))))
          (v128.load align=4 (i32.add (local.get $u) (local.get $o)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vl)))
    (block $t_done (loop $t
      (br_if $t_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (f32.store (i32.add (local.get $y) (local.get $o))
        (f32.mul
          (f32.mul (f32.load (i32.add (local.get $g) (local.get $o))) (f32.load (i32.add (local.get $s) (local.get $o))))
          (f32.load (i32.add (local.get $u) (local.get $o)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $t)))
  )

  ;; The gradient of (g · σ(g)) · u: with s = σ(g) and h = g · s,
  ;;   dg = (dy · u) · (s + (h − h · s)),  du = dy · h.
  (func $silu_mul_grad (export "silu_mul_grad") (param $g i32) (param $s i32) (param $u i32) (param $dy i32)
    (param $dg i32) (param $du i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $o i32) (local $sv v128) (local $hv v128) (local $yv v128)
    (local $sf f32) (local $hf f32) (local $yf f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $v_done (loop $vl
      (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (local.set $sv (v128.load align=4 (i32.add (local.get $s) (local.get $o))))
      (local.set $hv (f32x4.mul (v128.load align=4 (i32.add (local.get $g) (local.get $o))) (local.get $sv)))
      (local.set $yv (v128.load align=4 (i32.add (local.get $dy) (local.get $o))))
      (v128.store align=4 (i32.add (local.get $du) (local.get $o)) (f32x4.mul (local.get $yv) (local.get $hv)))
      (v128.store align=4 (i32.add (local.get $dg) (local.get $o))
        (f32x4.mul
          (f32x4.mul (local.get $yv) (v128.load align=4 (i32.add (local.get $u) (local.get $o))))
          (f32x4.add (local.get $sv) (f32x4.sub (local.get $hv) (f32x4.mul (local.get $hv) (local.get $sv))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vl)))
    (block $t_done (loop $t
      (br_if $t_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (local.set $sf (f32.load (i32.add (local.get $s) (local.get $o))))
      (local.set $hf (f32.mul (f32.load (i32.add (local.get $g) (local.get $o))) (local.get $sf)))
      (local.set $yf (f32.load (i32.add (local.get $dy) (local.get $o))))
      (f32.store (i32.add (local.get $du) (local.get $o)) (f32.mul (local.get $yf) (local.get $hf)))
      (f32.store (i32.add (local.get $dg) (local.get $o))
        (f32.mul
          (f32.mul (local.get $yf) (f32.load (i32.add (local.get $u) (local.get $o))))
          (f32.add (local.get $sf) (f32.sub (local.get $hf) (f32.mul (local.get $hf) (local.get $sf))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $t)))
  )

  ;; RoPE, rotate-half, on x [n, heads, 2·half] with tables cos, sin [n, 2·half]; for i < half, a = x[i], b = x[half + i]:
  ;;   forward:   y[i] = a·cos[i] − b·sin[i],         y[half + i] = b·cos[half + i] + a·sin[half + i]
  ;;   transpose: y[i] = a·cos[i] + b·sin[half + i],  y[half + i] = b·cos[half + i] − a·sin[i]   (the gradient)
  (func $rope (export "rope") (param $x i32) (param $cos i32) (param $sin i32) (param $y i32) (param $n i32) (param $heads i32)
    (param $half i32) (param $transpose i32)
    (local $p i32) (local $h i32) (local $i i32) (local $h4 i32) (local $xb i32) (local $tb i32) (local $hb i32)
    (local $a v128) (local $b v128) (local $c1 v128) (local $c2 v128) (local $s1 v128) (local $s2 v128)
    (local $af f32) (local $bf f32)
    (local.set $h4 (i32.and (local.get $half) (i32.const -4)))
    (local.set $hb (i32.shl (local.get $half) (i32.const 2)))
    (block $p_done (loop $pl
      (br_if $p_done (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $tb (i32.mul (local.get $p) (i32.shl (local.get $hb) (i32.const 1))))
      (local.set $h (i32.const 0))
      (block $h_done (loop $hl
        (br_if $h_done (i32.ge_u (local.get $h) (local.get $heads)))
        (local.set $xb (i32.mul (i32.add (i32.mul (local.get $p) (local.get $heads)) (local.get $h)) (i32.shl (local.get $hb) (i32.const 1))))
        (local.set $i (i32.const 0))
        (block $v_done (loop $vl
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $h4)))
          (local.set $a (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $xb)) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $b (v128.load align=4 (i32.add (i32.add (i32.add (local.get $x) (local.get $xb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $c1 (v128.load align=4 (i32.add (i32.add (local.get $cos) (local.get $tb)) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $c2 (v128.load align=4 (i32.add (i32.add (i32.add (local.get $cos) (local.get $tb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $s1 (v128.load align=4 (i32.add (i32.add (local.get $sin) (local.get $tb)) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $s2 (v128.load align=4 (i32.add (i32.add (i32.add (local.get $sin) (local.get $tb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))
          (if (local.get $transpose)
            (then
              (v128.store align=4 (i32.add (i32.add (local.get $y) (local.get $xb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32x4.add (f32x4.mul (local.get $a) (local.get $c1)) (f32x4.mul (local.get $b) (local.get $s2))))
              (v128.store align=4 (i32.add (i32.add (i32.add (local.get $y) (local.get $xb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32x4.sub (f32x4.mul (local.get $b) (local.get $c2)) (f32x4.mul (local.get $a) (local.get $s1)))))
            (else
              (v128.store align=4 (i32.add (i32.add (local.get $y) (local.get $xb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32x4.sub (f32x4.mul (local.get $a) (local.get $c1)) (f32x4.mul (local.get $b) (local.get $s1))))
              (v128.store align=4 (i32.add (i32.add (i32.add (local.get $y) (local.get $xb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32x4.add (f32x4.mul (local.get $b) (local.get $c2)) (f32x4.mul (local.get $a) (local.get $s2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $vl)))
        (block $t_done (loop $tl
          (br_if $t_done (i32.ge_u (local.get $i) (local.get $half)))
          (local.set $af (f32.load (i32.add (i32.add (local.get $x) (local.get $xb)) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $bf (f32.load (i32.add (i32.add (i32.add (local.get $x) (local.get $xb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))
          (if (local.get $transpose)
            (then
              (f32.store (i32.add (i32.add (local.get $y) (local.get $xb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32.add
                  (f32.mul (local.get $af) (f32.load (i32.add (i32.add (local.get $cos) (local.get $tb)) (i32.shl (local.get $i) (i32.const 2)))))
                  (f32.mul (local.get $bf) (f32.load (i32.add (i32.add (i32.add (local.get $sin) (local.get $tb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))))
              (f32.store (i32.add (i32.add (i32.add (local.get $y) (local.get $xb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32.sub
                  (f32.mul (local.get $bf) (f32.load (i32.add (i32.add (i32.add (local.get $cos) (local.get $tb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))
                  (f32.mul (local.get $af) (f32.load (i32.add (i32.add (local.get $sin) (local.get $tb)) (i32.shl (local.get $i) (i32.const 2))))))))
            (else
              (f32.store (i32.add (i32.add (local.get $y) (local.get $xb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32.sub
                  (f32.mul (local.get $af) (f32.load (i32.add (i32.add (local.get $cos) (local.get $tb)) (i32.shl (local.get $i) (i32.const 2)))))
                  (f32.mul (local.get $bf) (f32.load (i32.add (i32.add (local.get $sin) (local.get $tb)) (i32.shl (local.get $i) (i32.const 2)))))))
              (f32.store (i32.add (i32.add (i32.add (local.get $y) (local.get $xb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))
                (f32.add
                  (f32.mul (local.get $bf) (f32.load (i32.add (i32.add (i32.add (local.get $cos) (local.get $tb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))
                  (f32.mul (local.get $af) (f32.load (i32.add (i32.add (i32.add (local.get $sin) (local.get $tb)) (local.get $hb)) (i32.shl (local.get $i) (i32.const 2)))))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $tl)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hl)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pl)))
  )
)
`;
}
