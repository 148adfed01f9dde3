// RUN: vidnet-opt --vidnet-cpu-tile-filter-grads --canonicalize %s | FileCheck %s
// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-filter-grads{vector-bits=256}),canonicalize)' %s | FileCheck %s --check-prefix=AVX2
// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-filter-grads{vector-bits=256}),canonicalize)' --mlir-print-debuginfo %s | FileCheck %s --check-prefix=STREAM

// Tests that a strided filter gradient with 45 output channels becomes a chunked reduction:
// dy padded to 48 channels (a 32-lane block and half of one), chunks of output rows (2 x 4 x 96
// rows of 8 positions, dy 2.4 MB, more than L2: 32 rows per chunk, so 24 chunks) in order,
// each a forall over the 3x3x3 taps x 1 c-block x 2 f-blocks of 8 x 32 tiles of dW (padded to
// 64 lanes). Every tile sums x (read in place with the W stride 2, transposed by the
// contraction's maps: no copy) times dy over the chunk's rows into a register tile that starts
// at zero; the last f-block sums only its 16 lanes of dy and widens them with zeros to 32. The
// sums are written to dW by the first chunk (no zero fill of dW) and added to it by the others,
// once per chunk; the padding sliced away at the end. The chunk's rows go frame by frame (its 32
// rows of 96 per frame lie in frames [row0 / 96, (row0 + 31) / 96 + 1)): a frame whose input frame
// for the tile's tap is zero padding (D in [1, 5) are real) is skipped, and of the others only the
// chunk's rows whose input row is real (H in [1, 193) at stride 2: rows [ceil((1 - kh) / 2),
// ceil((193 - kh) / 2)), at most 96) are summed, with no index arithmetic per row beyond its own.
// CHECK: #[[MA:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK: #[[MB:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-LABEL: func.func @dw
// CHECK: %[[X:.*]] = tensor.pad %{{.*}} low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0]
// CHECK: %[[DY:.*]] = tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 3]
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<3x3x3x8x64xf32>
// CHECK: scf.for %[[CHUNK:.*]] = %c0 to %c24 step %c1 iter_args(%[[DW:.*]] = %[[INIT]])
// CHECK: scf.forall (%[[ITEM:.*]]) in (54) shared_outs(%[[OUT:.*]] = %[[DW]])
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[CHUNK]], %c0
// CHECK: %[[T:.*]]:4 = affine.delinearize_index %[[ITEM]] into (3, 3, 3, 2)
// CHECK: %[[F0:.*]] = arith.muli %[[T]]#3, %c32
// CHECK: %[[TILE:.*]] = tensor.extract_slice %[[OUT]][%[[T]]#0, %[[T]]#1, %[[T]]#2, 0, %[[F0]]] [1, 1, 1, 8, 32]
// CHECK: %[[ROW0:.*]] = arith.muli %[[CHUNK]], %c32
// CHECK: %[[KH1:.*]] = arith.subi %c1, %[[T]]#1
// CHECK: %[[LOWDIV:.*]] = arith.ceildivsi %[[KH1]], %c2
// CHECK: %[[LOW:.*]] = arith.maxsi %[[LOWDIV]], %c0
// CHECK: %[[KH193:.*]] = arith.subi %c193, %[[T]]#1
// CHECK: %[[HIGHDIV:.*]] = arith.ceildivsi %[[KH193]], %c2
// CHECK: %[[HIGH0:.*]] = arith.maxsi %[[HIGHDIV]], %c0
// CHECK: %[[HIGH:.*]] = arith.minsi %[[HIGH0]], %c96
// CHECK: %[[END:.*]] = arith.addi %[[ROW0]], %c32
// CHECK: %[[FRAME0:.*]] = arith.divui %[[ROW0]], %c96
// CHECK: %[[LASTROW:.*]] = arith.addi %[[ROW0]], %c31
// CHECK: %[[LASTFRAME:.*]] = arith.divui %[[LASTROW]], %c96
// CHECK: %[[FRAMES:.*]] = arith.addi %[[LASTFRAME]], %c1
// CHECK: %[[LAST:.*]] = arith.cmpi eq, %[[T]]#3, %c1
// CHECK: %[[SUM:.*]] = scf.if %[[LAST]] -> (vector<8x32xf32>)
// CHECK: %[[HALF:.*]] = scf.for {{.*}} = %[[FRAME0]] to %[[FRAMES]] {{.*}} -> (vector<8x16xf32>)
// CHECK: tensor.extract_slice %[[DY]]{{.*}} [1, 1, 1, 8, 16] [1, 1, 1, 1, 1] : tensor<2x4x96x8x48xf32> to tensor<8x16xf32>
// CHECK: vector.contract {{.*}} : vector<8x8xf32>, vector<8x16xf32> into vector<8x16xf32>
// CHECK: %[[WIDE:.*]] = vector.insert_strided_slice %[[HALF]], %{{.*}} {offsets = [0, 0], strides = [1, 1]} : vector<8x16xf32> into vector<8x32xf32>
// CHECK-NEXT: scf.yield %[[WIDE]]
// CHECK-NEXT: } else {
// CHECK: scf.for %[[FRAME:.*]] = %[[FRAME0]] to %[[FRAMES]] {{.*}} -> (vector<8x32xf32>)
// CHECK: %[[ND:.*]]:2 = affine.delinearize_index %[[FRAME]] into (2, 4)
// CHECK: %[[ID:.*]] = arith.addi %[[ND]]#1, %[[T]]#0
// CHECK: arith.cmpi sge, %[[ID]], %c1
// CHECK: arith.cmpi slt, %[[ID]], %c5
// CHECK: scf.if %{{.*}} -> (vector<8x32xf32>)
// CHECK: %[[FRAMEROW:.*]] = arith.muli %[[FRAME]], %c96
// CHECK: %[[SKIP:.*]] = arith.subi %[[ROW0]], %[[FRAMEROW]]
// CHECK: %[[BEGIN:.*]] = arith.maxsi %[[LOW]], %[[SKIP]]
// CHECK: %[[REST:.*]] = arith.subi %[[END]], %[[FRAMEROW]]
// CHECK: %[[STOP:.*]] = arith.minsi %[[HIGH]], %[[REST]]
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to %[[STOP]] step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<8x32xf32>)
// CHECK-NOT: arith.cmpi
// CHECK: %[[RHS:.*]] = tensor.extract_slice %[[DY]]{{.*}} [1, 1, 1, 8, 32] [1, 1, 1, 1, 1] : tensor<2x4x96x8x48xf32> to tensor<8x32xf32>
// CHECK: %[[B:.*]] = vector.transfer_read %[[RHS]]
// CHECK: %[[LHS:.*]] = tensor.extract_slice %[[X]]{{.*}} [1, 1, 1, 8, 8] [1, 1, 1, 2, 1] : tensor<2x6x194x18x8xf32> to tensor<8x8xf32>
// CHECK: %[[A:.*]] = vector.transfer_read %[[LHS]]
// CHECK: vector.contract {indexing_maps = [#[[MA]], #[[MB]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %[[A]], %[[B]], %[[ACC]] : vector<8x8xf32>, vector<8x32xf32> into vector<8x32xf32>
// CHECK: %[[NEW:.*]] = scf.if %[[FIRST]] -> (vector<8x32xf32>) {
// CHECK-NEXT: scf.yield %[[SUM]]
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[OLD:.*]] = vector.transfer_read %[[TILE]]
// CHECK-NEXT: %[[ADDED:.*]] = arith.addf %[[OLD]], %[[SUM]] : vector<8x32xf32>
// CHECK-NEXT: scf.yield %[[ADDED]]
// CHECK: %[[W:.*]] = vector.transfer_write %[[NEW]], %[[TILE]]
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[W]] into %[[OUT]][%[[T]]#0, %[[T]]#1, %[[T]]#2, 0, %[[F0]]] [1, 1, 1, 8, 32]
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [3, 3, 3, 8, 45] [1, 1, 1, 1, 1]
// CHECK-NOT: linalg.transpose
// CHECK-NOT: vidnet.conv_backward_filter
// With AVX2's 16 registers of 8 lanes (vector-bits=256): 8 channels are two tiles of 4 channels
// x 16 lanes (6-channel tiles would pad half of dW's rows), dy's lanes padded to 48 only (three
// whole 16-lane blocks, no half block).
// AVX2-LABEL: func.func @dw
// AVX2: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 3]
// AVX2: tensor.empty() : tensor<3x3x3x8x48xf32>
// AVX2: scf.forall (%{{.*}}) in (162)
// AVX2: vector.contract {{.*}} : vector<8x4xf32>, vector<8x16xf32> into vector<4x16xf32>
// AVX2: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [3, 3, 3, 8, 45] [1, 1, 1, 1, 1]
func.func @dw(%x: tensor<2x4x192x16x8xf32>, %dy: tensor<2x4x96x8x45xf32>) -> tensor<3x3x3x8x45xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 2, 2] padding [1, 1, 1] groups 1
      : tensor<2x4x192x16x8xf32>, tensor<2x4x96x8x45xf32> -> tensor<3x3x3x8x45xf32>
  return %dw : tensor<3x3x3x8x45xf32>
}

// Tests that a filter gradient whose dy fits in L2 whole (512 positions x 32 lanes, 64 KB) sums
// all of its positions in one chunk, however many there are: no loop over chunks around the
// tiles' forall, whose sums are written to dW once.
// CHECK-LABEL: func.func @whole_reduction
// CHECK-NOT: scf.for
// CHECK: scf.forall (%{{.*}}) in (9)
// CHECK: scf.for {{.*}} = %c0 to %c2 {{.*}} -> (vector<8x32xf32>)
// CHECK-NOT: arith.addf
// CHECK: scf.forall.in_parallel
func.func @whole_reduction(%x: tensor<1x2x18x18x8xf32>, %dy: tensor<1x2x16x16x32xf32>) -> tensor<1x3x3x8x32xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [0, 0, 0] groups 1
      : tensor<1x2x18x18x8xf32>, tensor<1x2x16x16x32xf32> -> tensor<1x3x3x8x32xf32>
  return %dw : tensor<1x3x3x8x32xf32>
}

// Tests that 83 input channels (no divisor from 4 to 8) take ten 8-channel tiles and a tail tile
// of the last 3 channels (8 x 32 accumulators instead of 1 x 32, at most an eighth of dW's rows
// padded), reading x in place with no zero channels, and that 144 output channels (4 x 32 + 16)
// are not padded in dy: the last f-block's tiles read its 16 lanes, and dW's lanes are padded to
// 160 for its widened 32-lane tiles; each narrow sum is widened with zeros to 8 x 32, and the
// gradient's padded rows and lanes are sliced away. One chunk (16 positions): its sums are
// written to dW, never read.
// CHECK-LABEL: func.func @padded_channels
// CHECK: %[[X:.*]] = tensor.pad %{{.*}} low[0, 1, 0, 0, 0] high[0, 1, 0, 0, 0]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: tensor.yield
// CHECK-NEXT: } : tensor<1x4x4x8x83xf32> to tensor<1x6x4x8x83xf32>
// CHECK-NOT: tensor.pad
// CHECK: tensor.empty() : tensor<3x1x1x88x160xf32>
// CHECK: scf.forall (%{{.*}}) in (165)
// CHECK: %[[T:.*]]:3 = affine.delinearize_index %{{.*}} into (3, 11, 5)
// CHECK: %[[LASTF:.*]] = arith.cmpi eq, %[[T]]#2, %c4
// CHECK: scf.if %[[LASTF]] -> (vector<8x32xf32>)
// CHECK: %[[LASTC:.*]] = arith.cmpi eq, %[[T]]#1, %c10
// CHECK: scf.if %[[LASTC]] -> (vector<8x32xf32>)
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 8, 16] [1, 1, 1, 1, 1] : tensor<1x4x4x8x144xf32> to tensor<8x16xf32>
// CHECK: tensor.extract_slice %[[X]]{{.*}} [1, 1, 1, 8, 3] [1, 1, 1, 1, 1] : tensor<1x6x4x8x83xf32> to tensor<8x3xf32>
// CHECK: vector.contract {{.*}} : vector<8x3xf32>, vector<8x16xf32> into vector<3x16xf32>
// CHECK: vector.insert_strided_slice {{.*}} : vector<3x16xf32> into vector<8x32xf32>
// CHECK: tensor.extract_slice %[[X]]{{.*}} [1, 1, 1, 8, 8] [1, 1, 1, 1, 1] : tensor<1x6x4x8x83xf32> to tensor<8x8xf32>
// CHECK: vector.contract {{.*}} : vector<8x8xf32>, vector<8x16xf32> into vector<8x16xf32>
// CHECK: vector.insert_strided_slice {{.*}} : vector<8x16xf32> into vector<8x32xf32>
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 8, 32] [1, 1, 1, 1, 1] : tensor<1x4x4x8x144xf32> to tensor<8x32xf32>
// CHECK: vector.contract {{.*}} : vector<8x3xf32>, vector<8x32xf32> into vector<3x32xf32>
// CHECK: vector.insert_strided_slice {{.*}} : vector<3x32xf32> into vector<8x32xf32>
// CHECK: vector.contract {{.*}} : vector<8x8xf32>, vector<8x32xf32> into vector<8x32xf32>
// CHECK-NOT: arith.addf
// CHECK-NOT: vector.transfer_read %{{.*}} : tensor<8x32xf32>
// CHECK: vector.transfer_write {{.*}} : vector<8x32xf32>, tensor<8x32xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [3, 1, 1, 83, 144] [1, 1, 1, 1, 1]
// On AVX2, tiles of 6 channels x 16 lanes (12 accumulators): 13 of them and a tail tile of the
// last 5 channels, dW's rows padded to 84; 144 lanes are nine 16-lane blocks.
// AVX2-LABEL: func.func @padded_channels
// AVX2-NOT: tensor.pad {{.*}} high[0, 1, 0, 0, {{[1-9]}}
// AVX2: tensor.empty() : tensor<3x1x1x84x144xf32>
// AVX2: scf.forall (%{{.*}}) in (378)
// AVX2: %[[T:.*]]:3 = affine.delinearize_index %{{.*}} into (3, 14, 9)
// AVX2: arith.cmpi eq, %[[T]]#1, %c13
// AVX2: vector.contract {{.*}} : vector<8x5xf32>, vector<8x16xf32> into vector<5x16xf32>
// AVX2: vector.insert_strided_slice {{.*}} : vector<5x16xf32> into vector<6x16xf32>
// AVX2: vector.contract {{.*}} : vector<8x6xf32>, vector<8x16xf32> into vector<6x16xf32>
// AVX2: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [3, 1, 1, 83, 144] [1, 1, 1, 1, 1]
func.func @padded_channels(%x: tensor<1x4x4x8x83xf32>, %dy: tensor<1x4x4x8x144xf32>) -> tensor<3x1x1x83x144xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [1, 0, 0] groups 1
      : tensor<1x4x4x8x83xf32>, tensor<1x4x4x8x144xf32> -> tensor<3x1x1x83x144xf32>
  return %dw : tensor<3x1x1x83x144xf32>
}

// Tests that a stem's 3 input channels take several taps along W per tile: 7 taps in groups of 4
// and 3 (4 x 3 and 3 x 3 rows of 32 lanes), dW's W taps padded to 8. Each group's tile reads
// dy once per column block and x at every tap of the group (W stride 2); the last group sums
// 3 taps and leaves its fourth tile zero; each tap's tile is written to dW on its own. The
// padding tap is sliced away.
// CHECK-LABEL: func.func @stem_taps
// CHECK: tensor.empty() : tensor<1x7x8x3x64xf32>
// CHECK: scf.forall (%{{.*}}) in (28)
// CHECK: %[[G:.*]]:3 = affine.delinearize_index %{{.*}} into (7, 2, 2)
// CHECK: %[[KW:.*]] = arith.muli %[[G]]#1, %c4
// CHECK: %[[TILE:.*]] = tensor.extract_slice %{{.*}}[0, %[[G]]#0, %[[KW]], 0, %{{.*}}] [1, 1, 4, 3, 32] [1, 1, 1, 1, 1] : tensor<1x7x8x3x64xf32> to tensor<4x3x32xf32>
// CHECK: %[[LASTG:.*]] = arith.cmpi eq, %[[G]]#1, %c1
// CHECK: %[[SUMS:.*]]:4 = scf.if %[[LASTG]]
// CHECK: scf.for {{.*}} -> (vector<3x32xf32>, vector<3x32xf32>, vector<3x32xf32>) {
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 8, 32] [1, 1, 1, 1, 1] : tensor<1x2x5x8x64xf32> to tensor<8x32xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, %[[KW]], 0] [1, 1, 1, 8, 3] [1, 1, 1, 2, 1]
// CHECK: vector.contract {{.*}} : vector<8x3xf32>, vector<8x32xf32> into vector<3x32xf32>
// CHECK: %[[KW1:.*]] = arith.addi %[[KW]], %c1
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, %[[KW1]], 0] [1, 1, 1, 8, 3] [1, 1, 1, 2, 1]
// CHECK: vector.contract
// CHECK: %[[KW2:.*]] = arith.addi %[[KW]], %c2
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, %[[KW2]], 0] [1, 1, 1, 8, 3] [1, 1, 1, 2, 1]
// CHECK: vector.contract
// CHECK-NOT: vector.contract
// CHECK: scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %cst
// CHECK: } else {
// CHECK: scf.for {{.*}} -> (vector<3x32xf32>, vector<3x32xf32>, vector<3x32xf32>, vector<3x32xf32>) {
// CHECK-COUNT-4: vector.contract
// CHECK: vector.transfer_write %[[SUMS]]#0, %[[TILE]][%c0, %c0, %c0]
// CHECK: vector.transfer_write %[[SUMS]]#1, %{{.*}}[%c1, %c0, %c0]
// CHECK: vector.transfer_write %[[SUMS]]#2, %{{.*}}[%c2, %c0, %c0]
// CHECK: vector.transfer_write %[[SUMS]]#3, %{{.*}}[%c3, %c0, %c0]
// CHECK: tensor.parallel_insert_slice %{{.*}} into %{{.*}}[0, %[[G]]#0, %[[KW]], 0, %{{.*}}] [1, 1, 4, 3, 32]
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [1, 7, 7, 3, 64] [1, 1, 1, 1, 1] : tensor<1x7x8x3x64xf32> to tensor<1x7x7x3x64xf32>
// On AVX2, 6 rows per tile, so the 7 taps come in groups of 2 (dW's W taps padded to 8), 2 x 3
// rows of 16 lanes.
// AVX2-LABEL: func.func @stem_taps
// AVX2: tensor.empty() : tensor<1x7x8x3x64xf32>
// AVX2: scf.forall (%{{.*}}) in (112)
// AVX2: affine.delinearize_index %{{.*}} into (7, 4, 4)
// AVX2: vector.contract {{.*}} : vector<8x3xf32>, vector<8x16xf32> into vector<3x16xf32>
func.func @stem_taps(%x: tensor<1x2x10x16x3xf32>, %dy: tensor<1x2x5x8x64xf32>) -> tensor<1x7x7x3x64xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 2, 2] padding [0, 3, 3] groups 1
      : tensor<1x2x10x16x3xf32>, tensor<1x2x5x8x64xf32> -> tensor<1x7x7x3x64xf32>
  return %dw : tensor<1x7x7x3x64xf32>
}

// Tests that a filter gradient with many chunks per element of dW (24 x 32 rows of 32 positions,
// 36.7 MFLOP against a 3 KB dW) sums its chunks in 16 parts at once: one forall over the parts,
// each summing its chunks in order, every tile of each, into its own copy of dW (written by the
// part's first chunk, added by the others); then dW is the parts' sum in order, one elementwise
// op. Its kernel has one tap along H and W (3x1x1) and it reads x and dy in place, so its chunks
// are one row each (768, 48 per part), and each item first prefetches the next row's x for its
// tap (frame od + kd of the D-padded x) and, for the first tap, the next row's dy.
// CHECK-LABEL: func.func @parts
// CHECK: %[[X:.*]] = tensor.pad %arg0 low[0, 1, 0, 0, 0] high[0, 1, 0, 0, 0]
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[DYB:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK: %[[PARTIALS:.*]] = tensor.empty() : tensor<16x3x1x1x8x32xf32>
// CHECK: %[[SUMS:.*]] = scf.forall (%[[PART:.*]]) in (16) shared_outs(%[[OUT:.*]] = %[[PARTIALS]])
// CHECK: %[[MINE:.*]] = tensor.extract_slice %[[OUT]][%[[PART]], 0, 0, 0, 0, 0] [1, 3, 1, 1, 8, 32]
// CHECK: %[[DONE:.*]] = scf.for %[[NTH:.*]] = %c0 to %c48 step %c1 iter_args(%[[MY:.*]] = %[[MINE]])
// CHECK: %[[BASE:.*]] = arith.muli %[[PART]], %c48
// CHECK: %[[CHUNK:.*]] = arith.addi %[[BASE]], %[[NTH]]
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[NTH]], %c0
// CHECK: scf.for %[[ITEM:.*]] = %c0 to %c3 step %c1 iter_args(%[[CUR:.*]] = %[[MY]])
// CHECK: %[[TAP0:.*]] = arith.cmpi eq, %[[ITEM]], %c0
// CHECK: %[[AFTER:.*]] = arith.addi %[[CHUNK]], %c1
// CHECK: %[[NEXT:.*]] = arith.minsi %[[AFTER]], %c767
// CHECK: scf.for %[[XW:.*]] = %c0 to %c32 step %c1 {
// CHECK: %[[XDH:.*]]:2 = affine.delinearize_index %[[NEXT]] into (24, 32)
// CHECK: %[[XD:.*]] = arith.addi %[[XDH]]#0, %[[ITEM]]
// CHECK: memref.prefetch %[[XB]][%c0, %[[XD]], %[[XDH]]#1, %[[XW]], %c0], read, locality<2>, data
// CHECK: scf.if %[[TAP0]] {
// CHECK: memref.prefetch %[[DYB]]
// CHECK: %[[TILE:.*]] = tensor.extract_slice %[[CUR]][%[[ITEM]], 0, 0, 0, 0] [1, 1, 1, 8, 32]
// CHECK: %[[FRAME0:.*]] = arith.divui %[[CHUNK]], %c32
// CHECK: scf.for %{{.*}} = %[[FRAME0]] to
// CHECK: vector.contract
// CHECK: scf.if %[[FIRST]] -> (vector<8x32xf32>)
// CHECK: arith.addf
// CHECK: %[[W:.*]] = vector.transfer_write %{{.*}}, %[[TILE]]
// CHECK: tensor.insert_slice %[[W]] into %[[CUR]][%[[ITEM]], 0, 0, 0, 0] [1, 1, 1, 8, 32]
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[DONE]] into %[[OUT]][%[[PART]], 0, 0, 0, 0, 0] [1, 3, 1, 1, 8, 32]
// CHECK: %[[P0:.*]] = tensor.extract_slice %[[SUMS]][0, 0, 0, 0, 0, 0] [1, 3, 1, 1, 8, 32]
// CHECK: %[[P1:.*]] = tensor.extract_slice %[[SUMS]][1, 0, 0, 0, 0, 0] [1, 3, 1, 1, 8, 32]
// CHECK: %[[P15:.*]] = tensor.extract_slice %[[SUMS]][15, 0, 0, 0, 0, 0] [1, 3, 1, 1, 8, 32]
// CHECK: linalg.generic {{.*}} ins(%[[P0]], %[[P1]], {{.*}}, %[[P15]] : {{.*}}) outs(%{{.*}} : tensor<3x1x1x8x32xf32>)
// CHECK: ^bb0(%[[A0:[^:]*]]: f32, %[[A1:[^:]*]]: f32,
// CHECK-NEXT: %[[S1:.*]] = arith.addf %[[A0]], %[[A1]] : f32
// CHECK-COUNT-14: arith.addf
// CHECK-NEXT: linalg.yield
func.func @parts(%x: tensor<1x24x32x32x8xf32>, %dy: tensor<1x24x32x32x32xf32>) -> tensor<3x1x1x8x32xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [1, 0, 0] groups 1
      : tensor<1x24x32x32x8xf32>, tensor<1x24x32x32x32xf32> -> tensor<3x1x1x8x32xf32>
  return %dw : tensor<3x1x1x8x32xf32>
}

// Tests that a filter gradient with many products per byte of its operands (64 -> 64 channels,
// 3x3x3 taps: 244 flops per byte) first copies x and dy into blocks of one tile's channels,
// [C / 8][N][D][H][W][8] and [F / 32][N][D][H][W][32], each a parallel loop over the rows
// (n, d, h) of vector copies, x with its W padding (zero columns 0 and 9) but not its D and H
// padding, whose rows the tiles skip; the tiles read their x and dy rows from those blocks, x's at
// the real row (the padded index minus 1).
// CHECK-LABEL: func.func @blocked_operands
// CHECK: %[[XB0:.*]] = tensor.empty() : tensor<8x1x4x4x10x8xf32>
// CHECK: %[[XB:.*]] = scf.forall (%{{.*}}) in (16) shared_outs(%{{.*}} = %[[XB0]])
// CHECK: vector.transfer_read %arg0{{.*}} {in_bounds = [true]} : tensor<1x4x4x8x64xf32>, vector<8xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %c0, %c0] {in_bounds = [true]} : vector<8xf32>, tensor<8x10x8xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %c9, %c0] {in_bounds = [true]} : vector<8xf32>, tensor<8x10x8xf32>
// CHECK: %[[DYB0:.*]] = tensor.empty() : tensor<2x1x4x4x8x32xf32>
// CHECK: %[[DYB:.*]] = scf.forall (%{{.*}}) in (16) shared_outs(%{{.*}} = %[[DYB0]])
// CHECK: vector.transfer_read %arg1{{.*}} {in_bounds = [true]} : tensor<1x4x4x8x64xf32>, vector<32xf32>
// CHECK: scf.forall (%{{.*}}) in (432)
// CHECK: %[[T:.*]]:5 = affine.delinearize_index %{{.*}} into (3, 3, 3, 8, 2)
// CHECK: scf.for %[[FRAME:.*]] = %c0 to %c4 step %c1
// CHECK: %[[D:.*]] = arith.addi %[[FRAME]], %[[T]]#0
// CHECK: %[[REALD:.*]] = arith.subi %[[D]], %c1
// CHECK: scf.for %[[OH:.*]] = %{{.*}} to %{{.*}} step %c1
// CHECK: %[[H:.*]] = arith.addi %[[OH]], %[[T]]#1
// CHECK: %[[REALH:.*]] = arith.subi %[[H]], %c1
// CHECK: tensor.extract_slice %[[DYB]][%[[T]]#4, 0, %[[FRAME]], %[[OH]], 0, 0] [1, 1, 1, 1, 8, 32]
// CHECK: tensor.extract_slice %[[XB]][%[[T]]#3, 0, %[[REALD]], %[[REALH]], %[[T]]#2, 0] [1, 1, 1, 1, 8, 8]
// CHECK-NOT: tensor.pad
// With AVX2's 6-channel tiles: 64 channels are 10 whole blocks and one of 4 channels and 2 zeros,
// which the copy reads past the last channel (in_bounds false: zeros); dy in 16-lane blocks.
// AVX2-LABEL: func.func @blocked_operands
// AVX2: tensor.empty() : tensor<11x1x4x4x10x6xf32>
// AVX2: vector.transfer_read %arg0{{.*}} {in_bounds = [true]} : tensor<1x4x4x8x64xf32>, vector<6xf32>
// AVX2: vector.transfer_read %arg0[%c0, %{{.*}}, %{{.*}}, %{{.*}}, %c60], %{{.*}} : tensor<1x4x4x8x64xf32>, vector<6xf32>
// AVX2: tensor.empty() : tensor<4x1x4x4x8x16xf32>
// AVX2: scf.forall (%{{.*}}) in (1188)
func.func @blocked_operands(%x: tensor<1x4x4x8x64xf32>, %dy: tensor<1x4x4x8x64xf32>) -> tensor<3x3x3x64x64xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [1, 1, 1] groups 1
      : tensor<1x4x4x8x64xf32>, tensor<1x4x4x8x64xf32> -> tensor<3x3x3x64x64xf32>
  return %dw : tensor<3x3x3x64x64xf32>
}

// Tests that a blocked filter gradient with several chunks (dy 2 MB: 8 chunks of 8 rows) and
// many channel blocks (32 x 8) takes one item per block of dW: the item's [1, 3, 3, 8, 32] slice
// carried through its loop over the chunks and, inside it, over the 9 taps, each tap's tile
// written (first chunk) or added to and inserted into the slice, which goes back into dW once.
// CHECK-LABEL: func.func @block_items
// CHECK: scf.forall (%[[BLOCK:.*]]) in (256) shared_outs(%[[DW:.*]] = %{{.*}}) -> (tensor<1x3x3x256x256xf32>)
// CHECK: %[[CF:.*]]:2 = affine.delinearize_index %[[BLOCK]] into (32, 8)
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[DW]][0, 0, 0, %{{.*}}, %{{.*}}] [1, 3, 3, 8, 32]
// CHECK: %[[CHUNKS:.*]] = scf.for %[[CHUNK:.*]] = %c0 to %c8 step %c1 iter_args(%[[S:.*]] = %[[SLICE]])
// CHECK: scf.for %[[TAP:.*]] = %c0 to %c9 step %c1 iter_args(%[[T:.*]] = %[[S]])
// CHECK: %[[ITEM:.*]]:4 = affine.delinearize_index %{{.*}} into (3, 3, 32, 8)
// CHECK: %[[TILE:.*]] = tensor.extract_slice %[[T]][0, %[[ITEM]]#0, %[[ITEM]]#1, 0, 0] [1, 1, 1, 8, 32]
// CHECK: arith.addf
// CHECK: %[[W:.*]] = vector.transfer_write %{{.*}}, %[[TILE]]
// CHECK: tensor.insert_slice %[[W]] into %[[T]][0, %[[ITEM]]#0, %[[ITEM]]#1, 0, 0] [1, 1, 1, 8, 32]
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[CHUNKS]] into %[[DW]][0, 0, 0, %{{.*}}, %{{.*}}] [1, 3, 3, 8, 32]
func.func @block_items(%x: tensor<1x4x16x32x256xf32>, %dy: tensor<1x4x16x32x256xf32>) -> tensor<1x3x3x256x256xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [0, 1, 1] groups 1
      : tensor<1x4x16x32x256xf32>, tensor<1x4x16x32x256xf32> -> tensor<1x3x3x256x256xf32>
  return %dw : tensor<1x3x3x256x256xf32>
}

// Tests that a blocked filter gradient summed in one chunk (r3d_18's layer3.0.conv1 at batch 2:
// 3x3x3 128->256 /2x2x2 at 2x2x14x14, dy 800 KB) whose dW is not streamed (3.5 MB) also takes one
// item per block of dW (16 x 8), each summing its 27 taps in turn over all 56 rows (4 frames of 14), so that its
// blocks of x and dy stay in L2 across the taps; the chunk loop of one trip folds away.
// CHECK-LABEL: func.func @block_items_one_chunk
// CHECK: scf.forall (%[[BLOCK:.*]]) in (128) shared_outs(%[[DW:.*]] = %{{.*}}) -> (tensor<3x3x3x128x256xf32>)
// CHECK: affine.delinearize_index %[[BLOCK]] into (16, 8)
// CHECK-NOT: scf.forall
// CHECK: scf.for %{{.*}} = %c0 to %c27 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<3x3x3x8x32xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[DW]][0, 0, 0, %{{.*}}, %{{.*}}] [3, 3, 3, 8, 32]
func.func @block_items_one_chunk(%x: tensor<2x4x28x28x128xf32>, %dy: tensor<2x2x14x14x256xf32>) -> tensor<3x3x3x128x256xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<2x4x28x28x128xf32>, tensor<2x2x14x14x256xf32> -> tensor<3x3x3x128x256xf32>
  return %dw : tensor<3x3x3x128x256xf32>
}

// Tests that a 1x1x1 filter gradient with a small dW (64 -> 128 channels, 32 KB) sums in parts
// over chunks whose x and dy rows fit in L1 (2 rows of 14 positions x 192 channels, 21 KB): 28
// chunks in 14 parts of 2, where its dy (401 KB) would otherwise be one chunk read by each tile
// from L2. Each part's chunk sums every tile (11 channel blocks of 6, the last 4, x 8 lane blocks),
// each item first prefetching its share of the next chunk's rows (x at the stride; the last
// chunk's next is itself): the first f-block's items their 6 channels of x, the first c-block's
// items their 16 lanes of dy, a line per position.
// AVX2-LABEL: func.func @pointwise_parts
// AVX2: %[[XB:.*]] = bufferization.to_buffer %arg0 read_only
// AVX2: %[[DYB:.*]] = bufferization.to_buffer %arg1 read_only
// AVX2: tensor.empty() : tensor<14x1x1x1x66x128xf32>
// AVX2: scf.forall (%[[PART:.*]]) in (14)
// AVX2: scf.for %{{.*}} = %c0 to %c2 step %c1
// AVX2: scf.for %[[ITEM:.*]] = %c0 to %c88 step %c1
// AVX2: %[[CF:.*]]:2 = affine.delinearize_index %[[ITEM]] into (11, 8)
// AVX2: %[[NEXT:.*]] = arith.minsi %{{.*}}, %c54
// AVX2: %[[XC:.*]] = arith.muli %[[CF]]#0, %c6
// AVX2: %[[F0:.*]] = arith.cmpi eq, %[[CF]]#1, %c0
// AVX2: scf.if %[[F0]] {
// AVX2: scf.for %[[XR:.*]] = %c0 to %c2 step %c1 {
// AVX2: scf.for %[[XW:.*]] = %c0 to %c14 step %c1 {
// AVX2: %[[XROW:.*]] = arith.addi %[[NEXT]], %[[XR]]
// AVX2: %[[XDH:.*]]:2 = affine.delinearize_index %[[XROW]] into (4, 14)
// AVX2: %[[XD:.*]] = arith.muli %[[XDH]]#0, %c2
// AVX2: %[[XH:.*]] = arith.muli %[[XDH]]#1, %c2
// AVX2: %[[XWS:.*]] = arith.muli %[[XW]], %c2
// AVX2: memref.prefetch %[[XB]][%c0, %[[XD]], %[[XH]], %[[XWS]], %[[XC]]], read, locality<2>, data
// AVX2: %[[DYF:.*]] = arith.muli %[[CF]]#1, %c16
// AVX2: %[[C0:.*]] = arith.cmpi eq, %[[CF]]#0, %c0
// AVX2: scf.if %[[C0]] {
// AVX2: scf.for %[[YR:.*]] = %c0 to %c2 step %c1 {
// AVX2: scf.for %[[YW:.*]] = %c0 to %c14 step %c1 {
// AVX2: %[[YROW:.*]] = arith.addi %[[NEXT]], %[[YR]]
// AVX2: %[[YDH:.*]]:2 = affine.delinearize_index %[[YROW]] into (4, 14)
// AVX2: memref.prefetch %[[DYB]][%c0, %[[YDH]]#0, %[[YDH]]#1, %[[YW]], %[[DYF]]], read, locality<2>, data
// AVX2: scf.for {{.*}} iter_args(%{{.*}}) -> (vector<4x16xf32>)
// AVX2: scf.for {{.*}} iter_args(%{{.*}}) -> (vector<6x16xf32>)
// AVX2: scf.forall.in_parallel
// AVX2: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x1x64x128xf32>)
func.func @pointwise_parts(%x: tensor<1x8x28x28x64xf32>, %dy: tensor<1x4x14x14x128xf32>) -> tensor<1x1x1x64x128xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [0, 0, 0] groups 1
      : tensor<1x8x28x28x64xf32>, tensor<1x4x14x14x128xf32> -> tensor<1x1x1x64x128xf32>
  return %dw : tensor<1x1x1x64x128xf32>
}

// Tests that a strided 1x1x1 filter gradient with enough products per byte (256 -> 512 channels:
// 85 per byte of its compact x and dy) copies only x's positions at the stride, compact:
// [C / 8][N][OD][OH][OW][8], each copy row reading x at twice its row and column, and that its
// tiles then read that copy at stride 1.
// CHECK-LABEL: func.func @compact_strided
// CHECK: %[[XB0:.*]] = tensor.empty() : tensor<32x1x1x7x7x8xf32>
// CHECK: %[[XB:.*]] = scf.forall (%[[ROW:.*]]) in (7) shared_outs(%{{.*}} = %[[XB0]])
// CHECK: %[[H:.*]] = arith.muli %[[ROW]], %c2
// CHECK: %[[W:.*]] = arith.muli %{{.*}}, %c2
// CHECK: vector.transfer_read %arg0[%c0, %c0, %[[H]], %[[W]], %{{.*}}]{{.*}} : tensor<1x2x14x14x256xf32>, vector<8xf32>
// CHECK: tensor.empty() : tensor<16x1x1x7x7x32xf32>
// CHECK: scf.forall (%{{.*}}) in (512)
// CHECK: tensor.extract_slice %[[XB]][%{{.*}}, 0, 0, %{{.*}}, 0, 0] [1, 1, 1, 1, 7, 8] [1, 1, 1, 1, 1, 1]
func.func @compact_strided(%x: tensor<1x2x14x14x256xf32>, %dy: tensor<1x1x7x7x512xf32>) -> tensor<1x1x1x256x512xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [0, 0, 0] groups 1
      : tensor<1x2x14x14x256xf32>, tensor<1x1x7x7x512xf32> -> tensor<1x1x1x256x512xf32>
  return %dw : tensor<1x1x1x256x512xf32>
}

// Tests that the products reading W padding are skipped where they are a large share (7 output
// columns, 3 taps along W: 2 of 21): for tap 0 the tile sums dy's columns 1-6, for tap 2 its
// columns 0-5, for tap 1 all 7, the same sums bit for bit (the skipped products are +-0).
// CHECK-LABEL: func.func @skip_w_padding
// CHECK: scf.forall (%{{.*}}) in (9)
// CHECK: scf.index_switch %{{.*}} -> vector<8x32xf32>
// CHECK: case 0 {
// CHECK: tensor.extract_slice %arg1[0, %{{.*}}, %{{.*}}, 1, 0] [1, 1, 1, 6, 32]
// CHECK: vector.contract {{.*}} : vector<6x8xf32>, vector<6x32xf32> into vector<8x32xf32>
// CHECK: case 2 {
// CHECK: tensor.extract_slice %arg1[0, %{{.*}}, %{{.*}}, 0, 0] [1, 1, 1, 6, 32]
// CHECK: vector.contract {{.*}} : vector<6x8xf32>, vector<6x32xf32> into vector<8x32xf32>
// CHECK: default {
// CHECK: vector.contract {{.*}} : vector<7x8xf32>, vector<7x32xf32> into vector<8x32xf32>
func.func @skip_w_padding(%x: tensor<1x2x7x7x8xf32>, %dy: tensor<1x2x7x7x32xf32>) -> tensor<1x3x3x8x32xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [0, 1, 1] groups 1
      : tensor<1x2x7x7x8xf32>, tensor<1x2x7x7x32xf32> -> tensor<1x3x3x8x32xf32>
  return %dw : tensor<1x3x3x8x32xf32>
}

// Tests that a filter gradient summed in one chunk whose dW is at least 4 MB (r3d_18's layer4,
// 3x3x3 512->512 at 1x7x7: 28 MB) writes its tiles as streamed stores (their location marked
// for vidnet-cpu-stream-stores), and that no other filter gradient of this file does (all
// smaller or in several chunks).
// CHECK-LABEL: func.func @streamed_dw
// AVX2-LABEL: func.func @streamed_dw
// STREAM-LABEL: func.func @streamed_dw
// STREAM: vector.transfer_write {{.*}} : vector<6x16xf32>, tensor<6x16xf32> loc(#[[STREAMED:loc[0-9]+]])
// STREAM-COUNT-1: fused<"vidnet.streamed-store">
// STREAM-NOT: fused<"vidnet.streamed-store">
func.func @streamed_dw(%x: tensor<2x1x7x7x512xf32>, %dy: tensor<2x1x7x7x512xf32>) -> tensor<3x3x3x512x512xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [1, 1, 1] groups 1
      : tensor<2x1x7x7x512xf32>, tensor<2x1x7x7x512xf32> -> tensor<3x3x3x512x512xf32>
  return %dw : tensor<3x3x3x512x512xf32>
}

// Tests that grouped filter gradients are left to vidnet-lower-to-linalg (their own generic):
// the schedule is for groups = 1, whose taps are C x F matmuls.
// CHECK-LABEL: func.func @grouped_left_alone
// CHECK: vidnet.conv_backward_filter %{{.*}}, %{{.*}} strides [1, 1, 1] padding [1, 1, 1] groups 16
// CHECK-NOT: scf.forall
func.func @grouped_left_alone(%x: tensor<1x4x8x8x16xf32>, %dy: tensor<1x4x8x8x16xf32>) -> tensor<3x3x3x1x16xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [1, 1, 1] groups 16
      : tensor<1x4x8x8x16xf32>, tensor<1x4x8x8x16xf32> -> tensor<3x3x3x1x16xf32>
  return %dw : tensor<3x3x3x1x16xf32>
}
