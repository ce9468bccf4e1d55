;; PIL's two-pass 8-bit resample (resample.ts has the reference and the derivation) and torchvision's
;; normalization, in WebAssembly SIMD. The JavaScript version spent ~2 ms of the ~5 ms of CPU that one image
;; costs (perf, bench/NOTES.md); on a 2-core CPU every millisecond of preprocessing is taken from inference.
;;
;; Bit-exactness: all arithmetic is int32 with wrap-around, exactly as the reference's Math.imul / `| 0`; the
;; clip to 0..255 is an arithmetic shift by 22 followed by two saturating narrows (i32 -> i16 is exact for the
;; sums that occur, i16 -> u8 clamps). Coefficients, and the float lookup table, are computed by the caller in
;; JavaScript so that their doubles are the reference's.
;;
;; Buffers are laid out by the caller (resampleWasm.ts); every pass may read up to 16 bytes and write up to
;; 15 bytes past the last row it owns, so the caller pads each buffer by 16 bytes. A horizontal-pass pixel store
;; writes 4 bytes, so intermediate rows have at least one spare byte (hpass4 writes 4 rows interleaved).
(module
  (memory (export "memory") 1)

  ;; Horizontal pass: for each of `rows` source rows, `nout` output pixels; output j reads counts[j] pixels
  ;; starting at byte starts[j] of the row, with weights[j * ks ..]. One pixel's R, G, B are lanes 0..2.
  (func (export "hpass")
    (param $src i32) (param $srcStride i32) (param $rows i32)
    (param $dst i32) (param $dstStride i32) (param $nout i32)
    (param $starts i32) (param $counts i32) (param $weights i32) (param $ks i32)
    (local $r i32) (local $j i32) (local $n i32) (local $row i32) (local $p i32) (local $end i32)
    (local $wp i32) (local $o i32) (local $acc v128) (local $half v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $srcStride))))
        (local.set $o (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $dstStride))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $nout)))
            (local.set $p (i32.add (local.get $row)
              (i32.load (i32.add (local.get $starts) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $end (i32.add (local.get $p) (i32.mul (local.get $n) (i32.const 3))))
            (local.set $wp (i32.add (local.get $weights)
              (i32.shl (i32.mul (local.get $j) (local.get $ks)) (i32.const 2))))
            (local.set $acc (local.get $half))
            (block $xdone
              (loop $xloop
                (br_if $xdone (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $acc (i32x4.add (local.get $acc)
                  (i32x4.mul
                    (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
                    (i32x4.splat (i32.load (local.get $wp))))))
                (local.set $p (i32.add (local.get $p) (i32.const 3)))
                (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                (br $xloop)))
            ;; Four bytes are stored; the fourth is overwritten by the next pixel (or lands in padding).
            (v128.store32_lane 0 (local.get $o)
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $acc) (i32.const 22)) (local.get $acc))
                (local.get $acc)))
            (local.set $o (i32.add (local.get $o) (i32.const 3)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $jloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; hpass for `quads` groups of 4 consecutive rows: each weight is loaded once for 4 rows (the single-row loop
  ;; spends as much on loading and splatting weights as on multiplying). Same arithmetic, same bytes.
  (func (export "hpass4")
    (param $src i32) (param $srcStride i32) (param $quads i32)
    (param $dst i32) (param $dstStride i32) (param $nout i32)
    (param $starts i32) (param $counts i32) (param $weights i32) (param $ks i32)
    (local $q i32) (local $j i32) (local $row i32) (local $p i32) (local $end i32) (local $wp i32) (local $o i32)
    (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $d1 i32) (local $d2 i32) (local $d3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $w v128) (local $half v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (local.set $s1 (local.get $srcStride))
    (local.set $s2 (i32.shl (local.get $srcStride) (i32.const 1)))
    (local.set $s3 (i32.mul (local.get $srcStride) (i32.const 3)))
    (local.set $d1 (local.get $dstStride))
    (local.set $d2 (i32.shl (local.get $dstStride) (i32.const 1)))
    (local.set $d3 (i32.mul (local.get $dstStride) (i32.const 3)))
    (block $qdone
      (loop $qloop
        (br_if $qdone (i32.ge_u (local.get $q) (local.get $quads)))
        (local.set $row (i32.add (local.get $src) (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $srcStride))))
        (local.set $o (i32.add (local.get $dst) (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $dstStride))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $nout)))
            (local.set $p (i32.add (local.get $row)
              (i32.load (i32.add (local.get $starts) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $end (i32.add (local.get $p)
              (i32.mul (i32.load (i32.add (local.get $counts) (i32.shl (local.get $j) (i32.const 2)))) (i32.const 3))))
            (local.set $wp (i32.add (local.get $weights)
              (i32.shl (i32.mul (local.get $j) (local.get $ks)) (i32.const 2))))
            (local.set $a0 (local.get $half))
            (local.set $a1 (local.get $half))
            (local.set $a2 (local.get $half))
            (local.set $a3 (local.get $half))
            (block $xdone
              (loop $xloop
                (br_if $xdone (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $w (i32x4.splat (i32.load (local.get $wp))))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (local.get $w)
                  (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p)))))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (local.get $w)
                  (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $p) (local.get $s1))))))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (local.get $w)
                  (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $p) (local.get $s2))))))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (local.get $w)
                  (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $p) (local.get $s3))))))))
                (local.set $p (i32.add (local.get $p) (i32.const 3)))
                (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                (br $xloop)))
            (v128.store32_lane 0 (local.get $o)
              (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (local.get $a0)) (local.get $a0)))
            (v128.store32_lane 0 (i32.add (local.get $o) (local.get $d1))
              (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a1) (i32.const 22)) (local.get $a1)) (local.get $a1)))
            (v128.store32_lane 0 (i32.add (local.get $o) (local.get $d2))
              (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (local.get $a2)) (local.get $a2)))
            (v128.store32_lane 0 (i32.add (local.get $o) (local.get $d3))
              (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a3) (i32.const 22)) (local.get $a3)) (local.get $a3)))
            (local.set $o (i32.add (local.get $o) (i32.const 3)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $jloop)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $qloop))))

  ;; Vertical pass: output row y sums counts[y] rows of `tmp` starting at byte offset starts[y], with
  ;; weights[y * ks ..]; 16 bytes (columns x channels) per step, in four int32x4 accumulators.
  (func (export "vpass")
    (param $tmp i32) (param $tmpStride i32) (param $nrows i32)
    (param $out i32) (param $outStride i32) (param $rowBytes i32)
    (param $starts i32) (param $counts i32) (param $weights i32) (param $ks i32)
    (local $y i32) (local $i i32) (local $n i32) (local $x i32) (local $base i32) (local $p i32)
    (local $wrow i32) (local $wp i32) (local $o i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $v v128) (local $w v128) (local $lo v128) (local $hi v128) (local $half v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $nrows)))
        (local.set $base (i32.add (local.get $tmp)
          (i32.load (i32.add (local.get $starts) (i32.shl (local.get $y) (i32.const 2))))))
        (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $y) (i32.const 2)))))
        (local.set $wrow (i32.add (local.get $weights)
          (i32.shl (i32.mul (local.get $y) (local.get $ks)) (i32.const 2))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $y) (local.get $outStride))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (local.set $a0 (local.get $half))
            (local.set $a1 (local.get $half))
            (local.set $a2 (local.get $half))
            (local.set $a3 (local.get $half))
            (local.set $p (i32.add (local.get $base) (local.get $i)))
            (local.set $wp (local.get $wrow))
            (local.set $x (i32.const 0))
            (block $xdone
              (loop $xloop
                (br_if $xdone (i32.ge_u (local.get $x) (local.get $n)))
                (local.set $v (v128.load (local.get $p)))
                (local.set $w (i32x4.splat (i32.load (local.get $wp))))
                (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
                (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $w))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $w))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $w))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $w))))
                (local.set $p (i32.add (local.get $p) (local.get $tmpStride)))
                (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                (local.set $x (i32.add (local.get $x) (i32.const 1)))
                (br $xloop)))
            (v128.store (i32.add (local.get $o) (local.get $i))
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s
                  (i32x4.shr_s (local.get $a0) (i32.const 22))
                  (i32x4.shr_s (local.get $a1) (i32.const 22)))
                (i16x8.narrow_i32x4_s
                  (i32x4.shr_s (local.get $a2) (i32.const 22))
                  (i32x4.shr_s (local.get $a3) (i32.const 22)))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $iloop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop))))

  ;; HWC bytes (rows of `stride` bytes) -> CHW float32 through a [3][256] lookup table of float32 bits.
  (func (export "normalize")
    (param $src i32) (param $stride i32) (param $width i32) (param $height i32) (param $lut i32) (param $dst i32)
    (local $y i32) (local $p i32) (local $end i32) (local $d i32) (local $plane i32)
    (local.set $plane (i32.shl (i32.mul (local.get $width) (local.get $height)) (i32.const 2)))
    (local.set $d (local.get $dst))
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $height)))
        (local.set $p (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $stride))))
        (local.set $end (i32.add (local.get $p) (i32.mul (local.get $width) (i32.const 3))))
        (block $xdone
          (loop $xloop
            (br_if $xdone (i32.ge_u (local.get $p) (local.get $end)))
            (i32.store (local.get $d)
              (i32.load (i32.add (local.get $lut) (i32.shl (i32.load8_u (local.get $p)) (i32.const 2)))))
            (i32.store (i32.add (local.get $d) (local.get $plane))
              (i32.load offset=1024 (i32.add (local.get $lut) (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 2)))))
            (i32.store (i32.add (local.get $d) (i32.shl (local.get $plane) (i32.const 1)))
              (i32.load offset=2048 (i32.add (local.get $lut) (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 2)))))
            (local.set $p (i32.add (local.get $p) (i32.const 3)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $xloop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop))))
)
