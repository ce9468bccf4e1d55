;; The paper probe's optimizer step in WebAssembly SIMD: global gradient norm (float64 accumulation) and a
;; fused AdamW update over float32 parameters and moments. math/adamw.ts has the TypeScript reference
;; (adamwF32Reference, sumSquaresF32Reference) that these kernels match bit for bit: every operation is one
;; IEEE float32 (or float64) operation in the same order, so the two agree exactly, not only within rounding.
;;
;; Why: at batch 256, D 2048, K 1000 the float64 JavaScript update over 2M parameters took longer than both
;; matrix products together (issue 17). Here the update is one pass over memory, four lanes at a time.
;; All lengths are multiples of 4 (the caller pads with zeros, which the update keeps at zero).
(module
  (memory (export "memory") 1)

  ;; Sum of squares of n float32 values at $g, in float64. Lanes: a accumulates elements 4i and 4i+1, b
  ;; accumulates 4i+2 and 4i+3; the result is (a0 + a1) + (b0 + b1).
  (func (export "sumsq") (param $g i32) (param $n i32) (result f64)
    (local $end i32) (local $x v128) (local $lo v128) (local $hi v128) (local $a v128) (local $b v128)
    (local.set $end (i32.add (local.get $g) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $g) (local.get $end)))
        (local.set $x (v128.load (local.get $g)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $hi (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
        (local.set $a (f64x2.add (local.get $a) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $b (f64x2.add (local.get $b) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $l)))
    (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a)))
      (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b)))))

  ;; AdamW (torch.optim.AdamW's order of operations) on n float32 parameters at $p with moments $m, $v and
  ;; gradient $g, all updated in place:
  ;;   g' = g gs; p = p decay; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) (g' g');
  ;;   p = p - (step m) / (sqrt(v) isb2 + eps)
  ;; gs: the clipping factor (1 when not clipped); decay = 1 - lr wd; step = lr / (1 - b1^t);
  ;; isb2 = 1 / sqrt(1 - b2^t). All constants are float32, rounded by the caller.
  (func (export "adamw")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $n i32)
    (param $gs f32) (param $decay f32) (param $step f32) (param $b1 f32) (param $omb1 f32)
    (param $b2 f32) (param $omb2 f32) (param $isb2 f32) (param $eps f32)
    (local $end i32) (local $gv v128) (local $pv v128) (local $mv v128) (local $vv v128)
    (local $GS v128) (local $DE v128) (local $ST v128) (local $B1 v128) (local $OB1 v128)
    (local $B2 v128) (local $OB2 v128) (local $IS v128) (local $EP v128)
    (local.set $GS (f32x4.splat (local.get $gs)))
    (local.set $DE (f32x4.splat (local.get $decay)))
    (local.set $ST (f32x4.splat (local.get $step)))
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $OB1 (f32x4.splat (local.get $omb1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $OB2 (f32x4.splat (local.get $omb2)))
    (local.set $IS (f32x4.splat (local.get $isb2)))
    (local.set $EP (f32x4.splat (local.get $eps)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $gv (f32x4.mul (v128.load (local.get $g)) (local.get $GS)))
        (local.set $pv (f32x4.mul (v128.load (local.get $p)) (local.get $DE)))
        (local.set $mv (f32x4.add
          (f32x4.mul (local.get $B1) (v128.load (local.get $m)))
          (f32x4.mul (local.get $OB1) (local.get $gv))))
        (local.set $vv (f32x4.add
          (f32x4.mul (local.get $B2) (v128.load (local.get $v)))
          (f32x4.mul (local.get $OB2) (f32x4.mul (local.get $gv) (local.get $gv)))))
        (v128.store (local.get $m) (local.get $mv))
        (v128.store (local.get $v) (local.get $vv))
        (v128.store (local.get $p)
          (f32x4.sub (local.get $pv)
            (f32x4.div
              (f32x4.mul (local.get $ST) (local.get $mv))
              (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vv)) (local.get $IS)) (local.get $EP)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $l))))
)
