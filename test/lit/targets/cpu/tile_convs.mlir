// RUN: vidnet-opt --vidnet-cpu-tile-convs --canonicalize %s | FileCheck %s
// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-convs),canonicalize,func.func(vidnet-cpu-vectorize-tiles),func.func(loop-invariant-subset-hoisting),canonicalize,one-shot-bufferize{bufferize-function-boundaries},cse,canonicalize)' %s | FileCheck %s --check-prefix=BUF
// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-convs{vector-bits=256}),canonicalize)' %s | FileCheck %s --check-prefix=AVX2
// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-convs{vector-bits=256}),canonicalize,func.func(vidnet-cpu-vectorize-tiles{vector-bits=256}),func.func(loop-invariant-subset-hoisting),canonicalize,one-shot-bufferize{bufferize-function-boundaries},cse,canonicalize)' %s | FileCheck %s --check-prefix=AVX2BUF

// The maps of the packs (the module's maps come first): @packed's loops run in the filter's
// order (taps, channels, lane blocks, lanes) and write [F/32][kd][kh][kw][C][32], so that each
// filter row is read whole; @packed_sub_filter's reads the filter through the sub-filter's map.
// CHECK-DAG: #[[PACKREAD:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4 * 32 + d5)>
// CHECK-DAG: #[[PACKWRITE:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d0, d1, d2, d3, d5)>
// CHECK-DAG: #[[READ:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (-d1 + 1, -d2 + 2, -d3 + 2, d0 * 32 + d5, d4)>

// Tests that a strided 3x3x3 conv with 45 output channels becomes static register tiles:
// filters padded to 48 (in the pipeline the filter is first copied by an elementwise op, which
// parallelize-elementwise splits before canonicalize would fold it, and which pad-in-place
// writes into the padded filter's interior), lanes in a block of 32 and a block of 16, each a
// forall of its own (8 output columns x 32 channels per tile, then 8 x 16), input rows read
// with the W stride (2), a matmul per (kd, kh, kw), and the padding sliced away. Sums in two
// levels: each row of taps (kw x channels) into a zero tile, added to the output tile. Every
// tile is one item of its forall (4 x 8 output rows x 1 column block x 1 filter block): the
// filter (41 KB) stays in L2, so the filter blocks are innermost. Taps that would only read the
// zero padding along D and H are skipped: kd in [max(0, 1 - od), min(3, 5 - od)), kh in
// [max(0, 1 - 2 oh), min(3, 17 - 2 oh)) (1 zero row, then 4 and 16 real ones). Along W the one
// column block is an edge tile: output column 0 reads the zero column at kw = 0, so rows 0 and
// 1-7 are register tiles of their own (the sums of rows 1-7 start with kw = 0, row 0's with
// kw = 1), each added into its rows of the output tile as vectors. The conv starts
// from zeros: its loop writes an empty tensor, and each tile starts as zeros written into the
// output's own row, which bufferizes in place: each tile is written straight into the output
// buffer, with no scratch buffer and no copy per tile.
// CHECK-LABEL: func.func @conv
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 3]
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x4x8x8x48xf32>
// CHECK: %[[WIDE:.*]] = scf.forall (%[[ITEM:.*]]) in (32) shared_outs(%[[OUT:.*]] = %[[INIT]])
// CHECK: %[[IDX:.*]]:2 = affine.delinearize_index %[[ITEM]] into (4, 8)
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][0, %[[IDX]]#0, %[[IDX]]#1, 0, 0] [1, 1, 1, 8, 32]
// CHECK: %[[TILE:.*]] = vector.transfer_write %{{.*}}, %[[SLICE]][%c0, %c0] {{.*}} : vector<8x32xf32>, tensor<8x32xf32>
// CHECK: %[[DLO:.*]] = arith.subi %c1, %[[IDX]]#0
// CHECK: %[[DHI:.*]] = arith.subi %c5, %[[IDX]]#0
// CHECK: %[[KDLO:.*]] = arith.maxsi %[[DLO]], %c0
// CHECK: %[[KDHI:.*]] = arith.minsi %[[DHI]], %c3
// CHECK: %[[H2:.*]] = arith.muli %[[IDX]]#1, %c2
// CHECK: %[[HLO:.*]] = arith.subi %c1, %[[H2]]
// CHECK: %[[HHI:.*]] = arith.subi %c17, %[[H2]]
// CHECK: %[[KHLO:.*]] = arith.maxsi %[[HLO]], %c0
// CHECK: %[[KHHI:.*]] = arith.minsi %[[HHI]], %c3
// CHECK: scf.for %{{.*}} = %[[KDLO]] to %[[KDHI]] step %c1 iter_args(%{{.*}} = %[[TILE]])
// CHECK: scf.for %{{.*}} = %[[KHLO]] to %[[KHHI]] step %c1 iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK: %[[ROW0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x32xf32>)
// CHECK: %[[ROWS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<7x32xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, 2, 0] [1, 1, 1, 7, 8] [1, 1, 1, 2, 1] : tensor<1x6x18x18x8xf32> to tensor<7x8xf32>
// CHECK: %[[KW0:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x32xf32>) outs(%[[ROWS]] : tensor<7x32xf32>)
// CHECK: %[[SUMS:.*]]:2 = scf.for %{{.*}} = %c1 to %c3 step %c1 iter_args(%{{.*}} = %[[ROW0]], %{{.*}} = %[[KW0]])
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 1, 8] [1, 1, 1, 2, 1] : tensor<1x6x18x18x8xf32> to tensor<1x8xf32>
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 7, 8] [1, 1, 1, 2, 1] : tensor<1x6x18x18x8xf32> to tensor<7x8xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<1x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<7x32xf32>)
// CHECK: vector.transfer_read %[[SUMS]]#0[%c0, %c0]
// CHECK: vector.transfer_read %[[ACC]][%c0, %c0]{{.*}} vector<1x32xf32>
// CHECK: arith.addf
// CHECK: %[[ACC1:.*]] = vector.transfer_write %{{.*}}, %[[ACC]][%c0, %c0]
// CHECK: vector.transfer_read %[[SUMS]]#1[%c0, %c0]
// CHECK: vector.transfer_read %[[ACC1]][%c1, %c0]{{.*}} vector<7x32xf32>
// CHECK: arith.addf
// CHECK: vector.transfer_write %{{.*}}, %[[ACC1]][%c1, %c0]
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[IDX]]#0, %[[IDX]]#1, 0, 0] [1, 1, 1, 8, 32]
// CHECK: %[[ALL:.*]] = scf.forall (%[[ITEM2:.*]]) in (32) shared_outs(%[[OUT2:.*]] = %[[WIDE]])
// CHECK: %[[IDX2:.*]]:2 = affine.delinearize_index %[[ITEM2]] into (4, 8)
// CHECK: tensor.extract_slice %[[OUT2]][0, %[[IDX2]]#0, %[[IDX2]]#1, 0, 32] [1, 1, 1, 8, 16]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<7x16xf32>)
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT2]][0, %[[IDX2]]#0, %[[IDX2]]#1, 0, 32] [1, 1, 1, 8, 16]
// CHECK: tensor.extract_slice %[[ALL]][0, 0, 0, 0, 0] [1, 4, 8, 8, 45] [1, 1, 1, 1, 1]
// CHECK-NOT: linalg.conv_3d
// BUF-LABEL: func.func @conv
// BUF: %[[OUTBUF:.*]] = memref.alloc() {{.*}} : memref<1x4x8x8x48xf32>
// BUF-NEXT: scf.forall
// BUF-NOT: memref.alloc
// BUF: %[[TILEBUF:.*]] = memref.subview %[[OUTBUF]]
// BUF-NOT: memref.alloc
// BUF: vector.transfer_write %{{.*}}, %[[TILEBUF]]
// BUF-NOT: memref.copy
// BUF: return
// With AVX2's 16 registers of 8 lanes (vector-bits=256), the same conv's tiles are 4 output
// columns x 24 channels (12 accumulators; 8 x 32 would be 32 and spill): F padded to 48 only, in
// two 24-lane blocks of one forall (4 x 8 rows x 2 filter blocks, each row two column blocks),
// and the edge column block's rows in pieces of 1 and 3.
// AVX2-LABEL: func.func @conv
// AVX2: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 3]
// AVX2: tensor.empty() : tensor<1x4x8x8x48xf32>
// AVX2: scf.forall (%{{.*}}) in (64)
// AVX2: affine.delinearize_index %{{.*}} into (4, 8, 2)
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<3x24xf32>)
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<1x24xf32>)
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<4x24xf32>)
// AVX2-NOT: scf.forall (
// AVX2: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [1, 4, 8, 8, 45] [1, 1, 1, 1, 1]
func.func @conv(%x: tensor<1x4x16x16x8xf32>, %w: tensor<3x3x3x8x45xf32>) -> tensor<1x4x8x8x45xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x4x16x16x8xf32> to tensor<1x6x18x18x8xf32>
  %e = tensor.empty() : tensor<1x4x8x8x45xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8x8x45xf32>) -> tensor<1x4x8x8x45xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<[1, 2, 2]> : tensor<3xi64>}
       ins(%p, %w : tensor<1x6x18x18x8xf32>, tensor<3x3x3x8x45xf32>) outs(%i : tensor<1x4x8x8x45xf32>) -> tensor<1x4x8x8x45xf32>
  return %y : tensor<1x4x8x8x45xf32>
}

// Tests that a conv whose filter block (27 taps x 192 channels x 32 lanes, 648 KB) would not stay
// in L2 is scheduled reduction-outer: one item per (clip, filter block), the reduction in blocks
// of 64 channels of one tap outside the output tiles (7 rows of 7 x 32): each block's products
// summed into a zero tile, which is added to the tile's sum in the item's output block, which
// starts as the init's (zeros). With 7 tiles per block, each block first prefetches the next
// block's 64 filter rows (two 64-byte lines of 32 lanes each), from the filter read in place.
// CHECK-LABEL: func.func @wide
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: scf.forall (%[[ITEM:.*]]) in (4) shared_outs(%[[OUT:.*]] = %[[INIT]])
// CHECK: %[[IDX:.*]]:2 = affine.delinearize_index %[[ITEM]] into (2, 2)
// CHECK: %[[FB:.*]] = arith.muli %[[IDX]]#1, %c32
// CHECK: %[[BLOCK:.*]] = tensor.extract_slice %[[OUT]][%[[IDX]]#0, 0, 0, 0, %[[FB]]] [1, 1, 7, 7, 32] {{.*}} to tensor<1x1x7x7x32xf32>
// CHECK: %[[FILTER:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<3x3x3x192x64xf32> to memref<3x3x3x192x64xf32, strided<[?, ?, ?, ?, ?], offset: ?>>
// CHECK: scf.for %[[KD:.*]] = %c0 to %c3
// CHECK: scf.for %[[KH:.*]] = %c0 to %c3
// CHECK: scf.for %[[KW:.*]] = %c0 to %c3
// CHECK: scf.for %[[CB:.*]] = %c0 to %c192 step %c64
// CHECK: scf.for %[[ROW:.*]] = %c0 to %c64 step %c1
// CHECK: memref.prefetch %[[FILTER]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[FB]]], read, locality<2>, data
// CHECK: memref.prefetch %[[FILTER]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}], read, locality<2>, data
// CHECK: scf.for %[[OH:.*]] = %c0 to %c7 step %c1 iter_args(%[[CUR:.*]] = %{{.*}})
// CHECK: %[[ACC:.*]] = tensor.extract_slice %[[CUR]][0, 0, %[[OH]], 0, 0] [1, 1, 1, 7, 32] {{.*}} to tensor<7x32xf32>
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<7x32xf32>)
// CHECK: %[[PART:.*]] = scf.for %[[C:.*]] = %[[CB]] to %{{.*}} step %c8 iter_args(%{{.*}} = %[[ZERO]])
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<7x32xf32>)
// CHECK: %[[SUM:.*]] = linalg.add ins(%[[ACC]], %[[PART]] : tensor<7x32xf32>, tensor<7x32xf32>) outs(%[[ACC]] : tensor<7x32xf32>)
// CHECK: tensor.insert_slice %[[SUM]] into %[[CUR]][0, 0, %[[OH]], 0, 0] [1, 1, 1, 7, 32]
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[IDX]]#0, 0, 0, 0, %[[FB]]] [1, 1, 7, 7, 32]
// BUF-LABEL: func.func @wide
// BUF-NOT: memref.copy
// BUF: memref.prefetch
// BUF-NOT: memref.copy
// BUF: return
// On AVX2 (the filter packed instead: its 16-lane slice is 331 KB), 7 output columns, which have no
// divisor from 3 to 6: flat tiles. One item per (filter block, clip, frame), clips inside filter
// blocks; the frame's 49 positions in row-major tiles of 5 (the input has no padding, so no run
// loses a row: 9 x 5 + 4 costs less than 8 x 6 + 1), a tile's rows in pieces of one output row
// (positions 5-9: row 0's columns 5-6 and row 1's 0-2), each piece written into the block once.
// Nothing is padded.
// AVX2-LABEL: func.func @wide
// AVX2-NOT: tensor.pad
// AVX2: %[[EMPTY:.*]] = tensor.empty() : tensor<2x1x7x7x64xf32>
// AVX2: scf.forall (%{{.*}}) in (8) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// AVX2: %[[IDX:.*]]:2 = affine.delinearize_index %{{.*}} into (4, 2)
// AVX2: %[[FB:.*]] = arith.muli %[[IDX]]#0, %c16
// AVX2: %[[BLOCK:.*]] = tensor.extract_slice %[[OUT]][%[[IDX]]#1, 0, 0, 0, %[[FB]]] [1, 1, 7, 7, 16] [1, 1, 1, 1, 1] : tensor<2x1x7x7x64xf32> to tensor<7x7x16xf32>
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<5x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<5x16xf32>)
// AVX2: %[[T0:.*]] = vector.transfer_write %{{.*}}, %[[BLOCK]][%c0, %c0, %c0] {{.*}} : vector<5x16xf32>, tensor<7x7x16xf32>
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<2x16xf32>)
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<3x16xf32>)
// AVX2: %[[T1:.*]] = vector.transfer_write %{{.*}}, %[[T0]][%c0, %c5, %c0] {{.*}} : vector<2x16xf32>, tensor<7x7x16xf32>
// AVX2: vector.transfer_write %{{.*}}, %[[T1]][%c1, %c0, %c0] {{.*}} : vector<3x16xf32>, tensor<7x7x16xf32>
// AVX2: vector.transfer_write %{{.*}}[%c6, %c3, %c0] {{.*}} : vector<4x16xf32>, tensor<7x7x16xf32>
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[IDX]]#1, 0, 0, 0, %[[FB]]] [1, 1, 7, 7, 16]
// AVX2-NOT: tensor.extract_slice
// AVX2: return
func.func @wide(%x: tensor<2x3x9x9x192xf32>, %w: tensor<3x3x3x192x64xf32>) -> tensor<2x1x7x7x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1x7x7x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<2x1x7x7x64xf32>) -> tensor<2x1x7x7x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<2x3x9x9x192xf32>, tensor<3x3x3x192x64xf32>) outs(%i : tensor<2x1x7x7x64xf32>) -> tensor<2x1x7x7x64xf32>
  return %y : tensor<2x1x7x7x64xf32>
}

// Tests the band between a quarter and a half of L2, for filters that are not packed (48 lanes:
// a part of 32 and one of 16): a filter block's slice of 442 KB (27 taps x 128 channels x 32
// lanes) goes reduction-outer when one clip's output block fits in 512 KB and the channels come
// in 64-channel blocks (one item per clip, the reduction in 64-channel blocks outside the
// tiles); stays tile-outer when that block is 640 KB (items per output row); and a 1x3x3 slice
// of 291 channels (335 KB), whose reduction blocks would be 3 channels, stays tile-outer too.
// CHECK-LABEL: func.func @near_l2
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c64
// CHECK-LABEL: func.func @near_l2_large_block
// CHECK: scf.forall (%[[ITEM:.*]]) in (160)
// CHECK: affine.delinearize_index %[[ITEM]] into (5, 32)
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c8
// CHECK-LABEL: func.func @near_l2_ragged_channels
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: scf.for %{{.*}} = %c0 to %c291 step %c3 iter_args(%{{.*}}) -> (tensor<8x32xf32>)
func.func @near_l2(%x: tensor<2x4x6x10x128xf32>, %w: tensor<3x3x3x128x48xf32>) -> tensor<2x2x4x8x48xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2x4x8x48xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2x4x8x48xf32>) -> tensor<2x2x4x8x48xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<2x4x6x10x128xf32>, tensor<3x3x3x128x48xf32>) outs(%i : tensor<2x2x4x8x48xf32>) -> tensor<2x2x4x8x48xf32>
  return %y : tensor<2x2x4x8x48xf32>
}
func.func @near_l2_large_block(%x: tensor<1x7x34x34x128xf32>, %w: tensor<3x3x3x128x48xf32>) -> tensor<1x5x32x32x48xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x5x32x32x48xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x5x32x32x48xf32>) -> tensor<1x5x32x32x48xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x7x34x34x128xf32>, tensor<3x3x3x128x48xf32>) outs(%i : tensor<1x5x32x32x48xf32>) -> tensor<1x5x32x32x48xf32>
  return %y : tensor<1x5x32x32x48xf32>
}
func.func @near_l2_ragged_channels(%x: tensor<1x1x6x10x291xf32>, %w: tensor<1x3x3x291x32xf32>) -> tensor<1x1x4x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x4x8x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x4x8x32xf32>) -> tensor<1x1x4x8x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x1x6x10x291xf32>, tensor<1x3x3x291x32xf32>) outs(%i : tensor<1x1x4x8x32xf32>) -> tensor<1x1x4x8x32xf32>
  return %y : tensor<1x1x4x8x32xf32>
}

// Tests that a filter that does not stay in L2 whole (1x3x3 x 256 x 64, 590 KB), but of which a
// tile's slice does when contiguous (295 KB), is packed as [F/32][kd][kh][kw][C][32] by an op
// tagged for vidnet-cpu-hoist-weight-packing, and that each tile sums all of its products in
// registers (tile-outer, not reduction-outer) reading contiguous 8 x 32 blocks of the packed
// filter.
// CHECK-LABEL: func.func @packed
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<1x3x3x256x64xf32>
// CHECK: %[[PACKED:.*]] = linalg.generic {indexing_maps = [#[[PACKREAD]], #[[PACKWRITE]]]
// CHECK-SAME: ins(%[[W]] : tensor<1x3x3x256x64xf32>) outs(%{{.*}} : tensor<2x1x3x3x256x32xf32>)
// CHECK-SAME: vidnet.weight_pack
// CHECK: scf.forall (%[[ITEM:.*]]) in (8)
// CHECK: affine.delinearize_index %[[ITEM]] into (2, 4)
// CHECK: scf.for %{{.*}} = %c0 to %c256 step %c8 iter_args(%{{.*}}) -> (tensor<8x32xf32>)
// CHECK: tensor.extract_slice %[[PACKED]][%{{.*}}, 0, %{{.*}}, %{{.*}}, %{{.*}}, 0] [1, 1, 1, 1, 8, 32] [1, 1, 1, 1, 1, 1] : tensor<2x1x3x3x256x32xf32> to tensor<8x32xf32>
// CHECK-NOT: scf.for %{{.*}} step %c64
// CHECK: return
func.func @packed(%x: tensor<1x1x6x10x256xf32>, %w: tensor<1x3x3x256x64xf32>) -> tensor<1x1x4x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x4x8x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x4x8x64xf32>) -> tensor<1x1x4x8x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x1x6x10x256xf32>, tensor<1x3x3x256x64xf32>) outs(%i : tensor<1x1x4x8x64xf32>) -> tensor<1x1x4x8x64xf32>
  return %y : tensor<1x1x4x8x64xf32>
}

// Tests that only the taps some output reads are packed: one output frame from one real input
// frame (padded by 1 on each side) reads only the middle temporal tap, so the pack reads that
// tap's slice of the filter and the tiles index the packed filter's only frame.
// CHECK-LABEL: func.func @packed_taps_read
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3x3x3x256x64xf32>
// CHECK: %[[MIDDLE:.*]] = tensor.extract_slice %[[W]][1, 0, 0, 0, 0] [1, 3, 3, 256, 64] [1, 1, 1, 1, 1]
// CHECK: %[[PACKED:.*]] = linalg.generic
// CHECK-SAME: ins(%[[MIDDLE]] : tensor<1x3x3x256x64xf32>) outs(%{{.*}} : tensor<2x1x3x3x256x32xf32>)
// CHECK-SAME: vidnet.weight_pack
// CHECK: tensor.extract_slice %[[PACKED]][%{{.*}}, 0, %{{.*}}, %{{.*}}, %{{.*}}, 0] [1, 1, 1, 1, 8, 32]
func.func @packed_taps_read(%x: tensor<1x1x6x10x256xf32>, %w: tensor<3x3x3x256x64xf32>) -> tensor<1x1x4x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 1, 0, 0, 0] high[0, 1, 0, 0, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e2: index):
    tensor.yield %zero : f32
  } : tensor<1x1x6x10x256xf32> to tensor<1x3x6x10x256xf32>
  %e = tensor.empty() : tensor<1x1x4x8x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x4x8x64xf32>) -> tensor<1x1x4x8x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x3x6x10x256xf32>, tensor<3x3x3x256x64xf32>) outs(%i : tensor<1x1x4x8x64xf32>) -> tensor<1x1x4x8x64xf32>
  return %y : tensor<1x1x4x8x64xf32>
}

// Tests that a data gradient's sub-filter (taps flipped, C and F swapped) is packed straight
// from the filter: the pack reads %W through the sub-filter's map composed with its own (only
// the middle temporal tap, as above: -(d1 + 1) + 2), and the transposed copy is gone.
// CHECK-LABEL: func.func @packed_sub_filter
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3x3x3x64x256xf32>
// CHECK-NOT: tensor<3x3x3x256x64xf32>
// CHECK: %[[PACKED:.*]] = linalg.generic {indexing_maps = [#[[READ]], #{{.*}}]
// CHECK-SAME: ins(%[[W]] : tensor<3x3x3x64x256xf32>) outs(%{{.*}} : tensor<2x1x3x3x256x32xf32>)
// CHECK-SAME: vidnet.weight_pack
// CHECK-NOT: tensor<3x3x3x256x64xf32>
// CHECK: return
#flip = affine_map<(d0, d1, d2, d3, d4) -> (-d0 + 2, -d1 + 2, -d2 + 2, d4, d3)>
#same = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @packed_sub_filter(%x: tensor<1x1x6x10x256xf32>, %w: tensor<3x3x3x64x256xf32>) -> tensor<1x1x4x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %se = tensor.empty() : tensor<3x3x3x256x64xf32>
  %sub = linalg.generic {indexing_maps = [#flip, #same],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<3x3x3x64x256xf32>) outs(%se : tensor<3x3x3x256x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<3x3x3x256x64xf32>
  %p = tensor.pad %x low[0, 1, 0, 0, 0] high[0, 1, 0, 0, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e2: index):
    tensor.yield %zero : f32
  } : tensor<1x1x6x10x256xf32> to tensor<1x3x6x10x256xf32>
  %e = tensor.empty() : tensor<1x1x4x8x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x4x8x64xf32>) -> tensor<1x1x4x8x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %sub : tensor<1x3x6x10x256xf32>, tensor<3x3x3x256x64xf32>) outs(%i : tensor<1x1x4x8x64xf32>) -> tensor<1x1x4x8x64xf32>
  return %y : tensor<1x1x4x8x64xf32>
}

// Tests that a conv onto an init other than zeros (here an argument; 1x1x1, so the loops over taps
// fold away) adds its products to that init's tile, and the loop writes into the init.
// CHECK-LABEL: func.func @onto
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<1x2x4x8x16xf32>
// CHECK: scf.forall (%{{.*}}) in (8) shared_outs(%[[OUT:.*]] = %[[B]])
// CHECK: %[[TILE:.*]] = tensor.extract_slice %[[OUT]]
// CHECK: %[[ROW:.*]] = linalg.matmul
// CHECK: %[[SUM:.*]] = vector.transfer_read %[[ROW]][%c0, %c0]
// CHECK: %[[INIT:.*]] = vector.transfer_read %[[TILE]][%c0, %c0]
// CHECK: %[[ADDED:.*]] = arith.addf %[[INIT]], %[[SUM]] : vector<8x16xf32>
// CHECK: vector.transfer_write %[[ADDED]], %[[TILE]][%c0, %c0]
func.func @onto(%x: tensor<1x2x4x8x8xf32>, %w: tensor<1x1x1x8x16xf32>, %b: tensor<1x2x4x8x16xf32>) -> tensor<1x2x4x8x16xf32> {
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x2x4x8x8xf32>, tensor<1x1x1x8x16xf32>) outs(%b : tensor<1x2x4x8x16xf32>) -> tensor<1x2x4x8x16xf32>
  return %y : tensor<1x2x4x8x16xf32>
}

// Tests that a conv whose whole filter (27 taps x 64 x 64, 442 KB) would not stay in L2 beside
// the input, but one filter block's slice (221 KB) would, walks the filter blocks inside each
// output frame: (n, od, f-block, oh, ow-block), so the tiles of one filter block are consecutive
// items for a whole frame, and a frame's input rows are read again by each filter block while
// they are still in cache.
// CHECK-LABEL: func.func @filter_blocks_outer
// CHECK: scf.forall (%[[ITEM:.*]]) in (24)
// CHECK: %[[IDX:.*]]:3 = affine.delinearize_index %[[ITEM]] into (3, 2, 4)
// CHECK: arith.muli %[[IDX]]#1, %c32
func.func @filter_blocks_outer(%x: tensor<1x5x6x10x64xf32>, %w: tensor<3x3x3x64x64xf32>) -> tensor<1x3x4x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x4x8x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x4x8x64xf32>) -> tensor<1x3x4x8x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x5x6x10x64xf32>, tensor<3x3x3x64x64xf32>) outs(%i : tensor<1x3x4x8x64xf32>) -> tensor<1x3x4x8x64xf32>
  return %y : tensor<1x3x4x8x64xf32>
}

// Tests that the conv's only reader, an elementwise op into an empty tensor (eval BN with one
// float64 scale per channel, the residual add, ReLU), runs on each tile before it is stored: its
// per-channel inputs sliced at the tile's filter block, the residual at the tile's place, the
// same body, tagged for vidnet-cpu-vectorize-tiles; the loop's result replaces the op's. The
// residual's tile (8 rows of two 64-byte lines) is prefetched at the tile's start.
// CHECK-LABEL: func.func @epilogue
// CHECK-SAME: %[[SCALE:[a-z0-9]+]]: tensor<64xf64>, %[[SHIFT:[a-z0-9]+]]: tensor<64xf32>, %[[RES:[a-z0-9]+]]: tensor<1x2x4x8x64xf32>
// CHECK: %[[ALL:.*]] = scf.forall (%[[ITEM:.*]]) in (16) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[IDX:.*]]:3 = affine.delinearize_index %[[ITEM]] into (2, 4, 2)
// CHECK: %[[FB:.*]] = arith.muli %[[IDX]]#2, %c32
// CHECK: %[[RESBUF:.*]] = bufferization.to_buffer %[[RES]] read_only
// CHECK: memref.prefetch %[[RESBUF]][%c0, %[[IDX]]#0, %[[IDX]]#1, %c0, %[[FB]]], read, locality<2>, data
// CHECK-COUNT-15: memref.prefetch %[[RESBUF]]
// CHECK-NOT: memref.prefetch
// CHECK: %[[SUM:.*]] = scf.for
// CHECK: linalg.matmul
// CHECK: %[[S:.*]] = tensor.extract_slice %[[SCALE]][%[[FB]]] [32] [1] : tensor<64xf64> to tensor<32xf64>
// CHECK: %[[B:.*]] = tensor.extract_slice %[[SHIFT]][%[[FB]]] [32] [1] : tensor<64xf32> to tensor<32xf32>
// CHECK: %[[R:.*]] = tensor.extract_slice %[[RES]][0, %[[IDX]]#0, %[[IDX]]#1, 0, %[[FB]]] [1, 1, 1, 8, 32] [1, 1, 1, 1, 1] : tensor<1x2x4x8x64xf32> to tensor<8x32xf32>
// CHECK: %[[E:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[SUM]], %[[S]], %[[B]], %[[R]] : tensor<8x32xf32>, tensor<32xf64>, tensor<32xf32>, tensor<8x32xf32>) outs(%[[SUM]] : tensor<8x32xf32>) attrs = {vidnet.epilogue}
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: arith.maximumf
// CHECK: tensor.parallel_insert_slice %[[E]] into %[[OUT]][0, %[[IDX]]#0, %[[IDX]]#1, 0, %[[FB]]] [1, 1, 1, 8, 32]
// CHECK: return %[[ALL]]
#id5 = affine_map<(a, b, c, d, e) -> (a, b, c, d, e)>
#lane5 = affine_map<(a, b, c, d, e) -> (e)>
func.func @epilogue(%x: tensor<1x4x6x10x8xf32>, %w: tensor<3x3x3x8x64xf32>, %scale: tensor<64xf64>, %shift: tensor<64xf32>,
                    %res: tensor<1x2x4x8x64xf32>) -> tensor<1x2x4x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x8x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x8x64xf32>) -> tensor<1x2x4x8x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x4x6x10x8xf32>, tensor<3x3x3x8x64xf32>) outs(%i : tensor<1x2x4x8x64xf32>) -> tensor<1x2x4x8x64xf32>
  %o = tensor.empty() : tensor<1x2x4x8x64xf32>
  %z = linalg.generic {indexing_maps = [#id5, #lane5, #lane5, #id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
       ins(%y, %scale, %shift, %res : tensor<1x2x4x8x64xf32>, tensor<64xf64>, tensor<64xf32>, tensor<1x2x4x8x64xf32>) outs(%o : tensor<1x2x4x8x64xf32>) {
  ^bb0(%v: f32, %s: f64, %b: f32, %r: f32, %out: f32):
    %vd = arith.extf %v : f32 to f64
    %bd = arith.extf %b : f32 to f64
    %m = arith.mulf %vd, %s : f64
    %a = arith.addf %m, %bd : f64
    %t = arith.truncf %a : f64 to f32
    %sum = arith.addf %t, %r : f32
    %relu = arith.maximumf %sum, %zero : f32
    linalg.yield %relu : f32
  } -> tensor<1x2x4x8x64xf32>
  return %z : tensor<1x2x4x8x64xf32>
}

// Tests that an elementwise reader stays a pass of its own where it cannot run on the tiles: the
// conv has a second reader (training-mode BN also sums it), or the op reads its output.
// CHECK-LABEL: func.func @no_epilogue
// CHECK: scf.forall
// CHECK-NOT: vidnet.epilogue
// CHECK: linalg.generic {{.*}} ins(%[[Y:[a-z0-9_]+]] : tensor<1x2x4x8x32xf32>)
// CHECK: linalg.generic {{.*}} outs(%[[Y]] : tensor<1x2x4x8x32xf32>)
// CHECK: scf.forall
// CHECK-NOT: vidnet.epilogue
// CHECK: linalg.generic {{.*}} outs(%{{[a-z0-9_]+}} : tensor<1x2x4x8x32xf32>)
// CHECK-NOT: vidnet.epilogue
func.func @no_epilogue(%x: tensor<1x4x6x10x8xf32>, %w: tensor<3x3x3x8x32xf32>, %acc: tensor<1x2x4x8x32xf32>)
    -> (tensor<1x2x4x8x32xf32>, tensor<1x2x4x8x32xf32>, tensor<1x2x4x8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x8x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x8x32xf32>) -> tensor<1x2x4x8x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x4x6x10x8xf32>, tensor<3x3x3x8x32xf32>) outs(%i : tensor<1x2x4x8x32xf32>) -> tensor<1x2x4x8x32xf32>
  %o = tensor.empty() : tensor<1x2x4x8x32xf32>
  %relu = linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
       ins(%y : tensor<1x2x4x8x32xf32>) outs(%o : tensor<1x2x4x8x32xf32>) {
  ^bb0(%v: f32, %out: f32):
    %m = arith.maximumf %v, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x8x32xf32>
  %twice = linalg.generic {indexing_maps = [#id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
       outs(%y : tensor<1x2x4x8x32xf32>) {
  ^bb0(%out: f32):
    %m = arith.addf %out, %out : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x8x32xf32>
  %y2 = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x4x6x10x8xf32>, tensor<3x3x3x8x32xf32>) outs(%i : tensor<1x2x4x8x32xf32>) -> tensor<1x2x4x8x32xf32>
  %sum = linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
       ins(%y2 : tensor<1x2x4x8x32xf32>) outs(%acc : tensor<1x2x4x8x32xf32>) {
  ^bb0(%v: f32, %out: f32):
    %m = arith.addf %v, %out : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x8x32xf32>
  return %relu, %twice, %sum : tensor<1x2x4x8x32xf32>, tensor<1x2x4x8x32xf32>, tensor<1x2x4x8x32xf32>
}

// Tests that a reduction-outer conv with filter blocks enough for the threads (8 of 32 lanes)
// gives each item both clips: the filter block streamed from memory serves the whole batch, the
// clips a loop inside each reduction block, each clip's tiles reading its own input.
// CHECK-LABEL: func.func @clips_per_item
// CHECK: scf.forall (%[[ITEM:.*]]) in (8) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[FB:.*]] = arith.muli %[[ITEM]], %c32
// CHECK: tensor.extract_slice %[[OUT]][0, 0, 0, 0, %[[FB]]] [2, 1, 7, 7, 32]
// CHECK: scf.for %[[KD:.*]] = %c0 to %c3
// CHECK: scf.for %[[CB:.*]] = %c0 to %c192 step %c64
// CHECK: scf.for %[[N:.*]] = %c0 to %c2 step %c1
// CHECK: scf.for %[[OH:.*]] = %c0 to %c7 step %c1
// CHECK: tensor.extract_slice %{{.*}}[%[[N]], 0, %[[OH]], 0, 0] [1, 1, 1, 7, 32]
// CHECK: tensor.extract_slice %{{.*}}[%[[N]], %[[KD]], %{{.*}}, %{{.*}}, %{{.*}}] [1, 1, 1, 7, 8]
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, 0, 0, 0, %[[FB]]] [2, 1, 7, 7, 32]
func.func @clips_per_item(%x: tensor<2x3x9x9x192xf32>, %w: tensor<3x3x3x192x256xf32>) -> tensor<2x1x7x7x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1x7x7x256xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<2x1x7x7x256xf32>) -> tensor<2x1x7x7x256xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<2x3x9x9x192xf32>, tensor<3x3x3x192x256xf32>) outs(%i : tensor<2x1x7x7x256xf32>) -> tensor<2x1x7x7x256xf32>
  return %y : tensor<2x1x7x7x256xf32>
}

// Tests that a reduction-outer conv whose blocks serve many tiles (2 x 14 rows of 2 x 7 x 32:
// 56) prefetches nothing, and that a kernel of 9 taps takes its reduction in blocks of up to 128
// channels (96, a divisor of 576), where the 27-tap @wide above takes 64.
// CHECK-LABEL: func.func @many_tiles_no_prefetch
// CHECK: scf.for %{{.*}} = %c0 to %c576 step %c96
// CHECK-NOT: memref.prefetch
// CHECK-NOT: bufferization.to_buffer
// CHECK: return
func.func @many_tiles_no_prefetch(%x: tensor<1x2x16x16x576xf32>, %w: tensor<1x3x3x576x32xf32>) -> tensor<1x2x14x14x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x14x14x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x14x14x32xf32>) -> tensor<1x2x14x14x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x2x16x16x576xf32>, tensor<1x3x3x576x32xf32>) outs(%i : tensor<1x2x14x14x32xf32>) -> tensor<1x2x14x14x32xf32>
  return %y : tensor<1x2x14x14x32xf32>
}

// Tests that a kernel of one tap along H and W (3x1x1) prefetches, at each step of a tile's
// reduction, the same channels of the next tile's 8 columns (8 further on along W) into L1.
// CHECK-LABEL: func.func @temporal_prefetch
// CHECK: %[[IDX:.*]]:2 = affine.delinearize_index %{{.*}} into (4, 2)
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %[[BLOCK:.*]] = %c0 to %c2 step %c1
// CHECK: %[[OWB:.*]] = arith.muli %[[BLOCK]], %c8
// CHECK: %[[X:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK: scf.for %[[C:.*]] = %c0 to %c16 step %c8
// CHECK: %[[COL:.*]] = arith.addi %[[OWB]], %c8
// CHECK: memref.prefetch %[[X]][%c0, %{{.*}}, %[[IDX]]#1, %[[COL]], %[[C]]], read, locality<3>, data
// CHECK-COUNT-7: memref.prefetch %[[X]]
// CHECK-NOT: memref.prefetch
// CHECK: linalg.matmul
func.func @temporal_prefetch(%x: tensor<1x6x2x16x16xf32>, %w: tensor<3x1x1x16x32xf32>) -> tensor<1x4x2x16x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x2x16x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x2x16x32xf32>) -> tensor<1x4x2x16x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x6x2x16x16xf32>, tensor<3x1x1x16x32xf32>) outs(%i : tensor<1x4x2x16x32xf32>) -> tensor<1x4x2x16x32xf32>
  return %y : tensor<1x4x2x16x32xf32>
}

// Tests that only the edge column blocks are edge tiles: 21 output columns in three blocks of 7,
// 1 zero column on each side (3-wide kernel). Block 0 reads the left zero column at kw = 0 (its
// rows 1-6 start there), block 2 the right one at kw = 2 (rows 0-5 only); block 1 is the default,
// the whole tile for every tap. Each item is an output row, whose tiles take turns for each tap
// row and add their sums into it. Once bufferized, nothing is allocated or copied per tile.
// CHECK-LABEL: func.func @edge_tiles
// CHECK: scf.forall (%{{.*}}) in (21)
// CHECK: vector.transfer_write %{{.*}} : vector<7x32xf32>, tensor<21x32xf32>
// CHECK: scf.for %[[BLOCK:.*]] = %c0 to %c3 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<21x32xf32>) {
// CHECK-NEXT: scf.index_switch %[[BLOCK]] -> tensor<21x32xf32>
// CHECK: case 0 {
// CHECK: %[[OWB:.*]] = arith.muli %[[BLOCK]], %c7
// CHECK: %[[COL:.*]] = arith.addi %[[OWB]], %c1
// CHECK: tensor.extract_slice %{{.*}}[0, 0, %{{.*}}, %[[COL]], 0] [1, 1, 1, 6, 8]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<6x32xf32>)
// CHECK: scf.for %{{.*}} = %c1 to %c3 step %c1
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<1x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<6x32xf32>)
// CHECK-NOT: case 1
// CHECK: case 2 {
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<6x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<1x32xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, 2, 0, 0] [1, 1, 1, 8, 32]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<6x32xf32>)
// CHECK: default {
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<7x32xf32>)
// CHECK: arith.addf %{{.*}} : vector<7x32xf32>
// BUF-LABEL: func.func @edge_tiles
// BUF: memref.alloc() {{.*}} : memref<1x1x21x21x32xf32>
// BUF-NEXT: scf.forall
// BUF-NOT: memref.alloc
// BUF-NOT: memref.copy
// BUF: return
func.func @edge_tiles(%x: tensor<1x1x21x21x8xf32>, %w: tensor<1x3x3x8x32xf32>) -> tensor<1x1x21x21x32xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x1x21x21x8xf32> to tensor<1x1x23x23x8xf32>
  %e = tensor.empty() : tensor<1x1x21x21x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x21x21x32xf32>) -> tensor<1x1x21x21x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x1x23x23x8xf32>, tensor<1x3x3x8x32xf32>) outs(%i : tensor<1x1x21x21x32xf32>) -> tensor<1x1x21x21x32xf32>
  return %y : tensor<1x1x21x21x32xf32>
}

// Tests edge tiles reduction-outer (27 taps x 384 channels x 32 lanes do not fit in L2): the
// reduction is outermost, so each tile of a (tap, channel block) step is summed for the rows that
// tap reads: with 7 output columns in one block, 6 rows from column 1 at kw = 0, 6 from column 0
// at kw = 2, and the whole tile at kw = 1.
// CHECK-LABEL: func.func @reduction_outer_edges
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK: scf.for %[[KW:.*]] = %c0 to %c3
// CHECK: scf.index_switch %[[KW]] -> tensor<1x2x7x7x32xf32>
// CHECK: case 0 {
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, 1, 0] [1, 1, 1, 6, 32]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<6x32xf32>)
// CHECK: tensor.insert_slice %{{.*}}[0, %{{.*}}, %{{.*}}, 1, 0] [1, 1, 1, 6, 32]
// CHECK: case 2 {
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, 0, 0] [1, 1, 1, 6, 32]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<6x32xf32>)
// CHECK: default {
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<7x32xf32>)
// BUF-LABEL: func.func @reduction_outer_edges
// BUF: memref.alloc() {{.*}} : memref<1x2x7x7x32xf32>
// BUF-NOT: memref.alloc
// BUF-NOT: memref.copy
// BUF: return
func.func @reduction_outer_edges(%x: tensor<1x2x7x7x384xf32>, %w: tensor<3x3x3x384x32xf32>) -> tensor<1x2x7x7x32xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x2x7x7x384xf32> to tensor<1x4x9x9x384xf32>
  %e = tensor.empty() : tensor<1x2x7x7x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x7x7x32xf32>) -> tensor<1x2x7x7x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x4x9x9x384xf32>, tensor<3x3x3x384x32xf32>) outs(%i : tensor<1x2x7x7x32xf32>) -> tensor<1x2x7x7x32xf32>
  return %y : tensor<1x2x7x7x32xf32>
}

// Tests the reduction-outer case selector with two edge blocks (14 output columns, blocks of 7):
// edge * 3 + kw, edge 0 for the block at column 0, 1 at column 7, 2 for any other; cases 0
// (block 0 at kw = 0: 6 rows from column 1) and 5 (block 1 at kw = 2: its first 6 rows).
// CHECK-LABEL: func.func @reduction_outer_two_edges
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK: scf.for %[[KW:.*]] = %c0 to %c3
// CHECK: scf.for %[[OW:.*]] = %c0 to %c14 step %c7
// CHECK: %[[AT7:.*]] = arith.cmpi eq, %[[OW]], %c7
// CHECK: %[[E1:.*]] = arith.select %[[AT7]], %c1, %c2
// CHECK: %[[AT0:.*]] = arith.cmpi eq, %[[OW]], %c0
// CHECK: %[[E0:.*]] = arith.select %[[AT0]], %c0, %[[E1]]
// CHECK: %[[E3:.*]] = arith.muli %[[E0]], %c3
// CHECK: %[[WHICH:.*]] = arith.addi %[[E3]], %[[KW]]
// CHECK: scf.index_switch %[[WHICH]]
// CHECK: case 0 {
// CHECK: %[[COL1:.*]] = arith.addi %[[OW]], %c1
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, %[[COL1]], 0] [1, 1, 1, 6, 32]
// CHECK: case 5 {
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, %[[OW]], 0] [1, 1, 1, 6, 32]
// CHECK: default {
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, %[[OW]], 0] [1, 1, 1, 7, 32]
func.func @reduction_outer_two_edges(%x: tensor<1x2x14x14x384xf32>, %w: tensor<3x3x3x384x32xf32>) -> tensor<1x2x14x14x32xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x2x14x14x384xf32> to tensor<1x4x16x16x384xf32>
  %e = tensor.empty() : tensor<1x2x14x14x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x14x14x32xf32>) -> tensor<1x2x14x14x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x4x16x16x384xf32>, tensor<3x3x3x384x32xf32>) outs(%i : tensor<1x2x14x14x32xf32>) -> tensor<1x2x14x14x32xf32>
  return %y : tensor<1x2x14x14x32xf32>
}

// Tests that a reduction-outer conv whose channels have no divisor that makes long blocks (571 is
// prime: blocks of 1 channel, each a load and store of the item's sums) pads C with zero channels,
// on the input and the filter, to the smallest multiple of 8 whose blocks reach 64 channels: 576,
// in blocks of 96.
// CHECK-LABEL: func.func @ragged_reduction_outer
// CHECK-DAG: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 5]
// CHECK-DAG: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 5, 0]
// CHECK: scf.for %{{.*}} = %c0 to %c576 step %c96
// CHECK: return
func.func @ragged_reduction_outer(%x: tensor<1x1x9x9x571xf32>, %w: tensor<1x3x3x571x32xf32>) -> tensor<1x1x7x7x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x7x7x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x7x7x32xf32>) -> tensor<1x1x7x7x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x1x9x9x571xf32>, tensor<1x3x3x571x32xf32>) outs(%i : tensor<1x1x7x7x32xf32>) -> tensor<1x1x7x7x32xf32>
  return %y : tensor<1x1x7x7x32xf32>
}

// Tests output columns in parts with AVX2 registers, 28 columns as four 6-row tiles (12 accumulators) and a
// 4-row tail tile at column 24, each a forall of its own over (clip, frame, filter block, row), the
// output neither padded nor copied (as 7 x 4 each tile would keep only 8 FMA chains).
// AVX2-LABEL: func.func @columns
// AVX2-NOT: tensor.pad
// AVX2: %[[EMPTY:.*]] = tensor.empty() : tensor<1x1x2x28x16xf32>
// AVX2: %[[MAIN:.*]] = scf.forall (%[[ROW0:.*]]) in (2) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// AVX2: vector.transfer_write %{{.*}} : vector<6x16xf32>, tensor<24x16xf32>
// AVX2: scf.for %{{.*}} = %c0 to %c3 step %c1
// AVX2: scf.for %[[BLOCK:.*]] = %c0 to %c4 step %c1
// AVX2: %[[COL:.*]] = arith.muli %[[BLOCK]], %c6
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<6x16xf32>)
// AVX2: vector.transfer_write %{{.*}}, %{{.*}}[%[[COL]], %c0] {{.*}} : vector<6x16xf32>, tensor<24x16xf32>
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, 0, %[[ROW0]], 0, 0] [1, 1, 1, 24, 16]
// AVX2: %[[TAIL:.*]] = scf.forall (%[[ROW:.*]]) in (2) shared_outs(%[[OUT2:.*]] = %[[MAIN]])
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT2]][0, 0, %[[ROW]], 24, 0] [1, 1, 1, 4, 16]
// AVX2-NOT: tensor.extract_slice %[[TAIL]]
// AVX2: return %[[TAIL]]
func.func @columns(%x: tensor<1x1x4x30x8xf32>, %w: tensor<1x3x3x8x16xf32>) -> tensor<1x1x2x28x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x2x28x16xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x2x28x16xf32>) -> tensor<1x1x2x28x16xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x1x4x30x8xf32>, tensor<1x3x3x8x16xf32>) outs(%i : tensor<1x1x2x28x16xf32>) -> tensor<1x1x2x28x16xf32>
  return %y : tensor<1x1x2x28x16xf32>
}

// Tests a strided 1x1x1 conv (a downsampling shortcut) with AVX2 registers: every output row reads
// one tap row, so each 6-row tile's sum (from +0 in registers) is written into the row as it is,
// with no zeros written into the row first and no read of them to add the sum onto (@columns,
// three tap rows, keeps both).
// AVX2-LABEL: func.func @pointwise_strided
// AVX2: scf.forall (%{{.*}}) in (16)
// AVX2: %[[ROW:.*]] = tensor.extract_slice %{{.*}} : tensor<1x2x4x28x32xf32> to tensor<24x16xf32>
// AVX2-NOT: vector.transfer_write
// AVX2: scf.for %[[BLOCK:.*]] = %c0 to %c4 step %c1 iter_args(%[[ACC:.*]] = %[[ROW]])
// AVX2: %[[SUM:.*]] = scf.for
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<6x16xf32>)
// AVX2: %[[TILE:.*]] = vector.transfer_read %[[SUM]]
// AVX2-NOT: vector.transfer_read
// AVX2-NOT: arith.addf
// AVX2: vector.transfer_write %[[TILE]], %[[ACC]][%{{.*}}, %c0] {{.*}} : vector<6x16xf32>, tensor<24x16xf32>
// AVX2: tensor.parallel_insert_slice
func.func @pointwise_strided(%x: tensor<1x4x8x56x16xf32>, %w: tensor<1x1x1x16x32xf32>) -> tensor<1x2x4x28x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x28x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x28x32xf32>) -> tensor<1x2x4x28x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<2> : tensor<3xi64>}
       ins(%x, %w : tensor<1x4x8x56x16xf32>, tensor<1x1x1x16x32xf32>) outs(%i : tensor<1x2x4x28x32xf32>) -> tensor<1x2x4x28x32xf32>
  return %y : tensor<1x2x4x28x32xf32>
}

// Tests three-vector lane blocks with AVX2 registers: F = 48 in two blocks of 24 lanes, each tile
// 4 rows (12 accumulators), so 14 columns are three 4-row tiles and a 2-column tail at column 12,
// whose tiles take two output rows each (2 x 2 x 24: as many accumulators as a full tile, where
// one row kept 6 FMA chains). Block 0 is an edge tile (its row 0 reads the left zero column at
// kw = 0), and the tail reads the right one at kw = 2: its pieces are its two columns, in each of
// its two rows. Once vectorized, every vector is one register's row (the 24 lanes are three
// 8-lane vectors), and once bufferized nothing is allocated or copied per tile.
// AVX2-LABEL: func.func @three_vectors
// AVX2: %[[EMPTY:.*]] = tensor.empty() : tensor<1x1x14x14x48xf32>
// AVX2: %[[MAIN:.*]] = scf.forall (%{{.*}}) in (28) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// AVX2: %[[IDX:.*]]:2 = affine.delinearize_index %{{.*}} into (14, 2)
// AVX2: scf.index_switch %[[BLOCK:.*]] -> tensor<12x24xf32>
// AVX2: case 0 {
// AVX2: arith.muli %[[BLOCK]], %c4
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<3x24xf32>)
// AVX2: default {
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<4x24xf32>)
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, 0, %[[IDX]]#0, 0, %{{.*}}] [1, 1, 1, 12, 24]
// AVX2: scf.forall (%{{.*}}) in (14) shared_outs(%[[OUT2:.*]] = %[[MAIN]])
// AVX2: %[[PAIR:.*]]:2 = affine.delinearize_index %{{.*}} into (7, 2)
// AVX2: %[[OH:.*]] = arith.muli %[[PAIR]]#0, %c2
// AVX2: tensor.extract_slice %[[OUT2]][0, 0, %[[OH]], 12, %{{.*}}] [1, 1, 2, 2, 24] {{.*}} to tensor<2x2x24xf32>
// AVX2-COUNT-4: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<1x24xf32>)
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT2]][0, 0, %[[OH]], 12, %{{.*}}] [1, 1, 2, 2, 24]
// AVX2BUF-LABEL: func.func @three_vectors
// AVX2BUF-NOT: vector<{{[0-9x]*}}24xf32>
// AVX2BUF: memref.alloc() {{.*}} : memref<1x1x14x14x48xf32>
// AVX2BUF-NEXT: scf.forall
// AVX2BUF-NOT: memref.alloc
// AVX2BUF-NOT: memref.copy
// AVX2BUF-NOT: vector<{{[0-9x]*}}24xf32>
// AVX2BUF: return
// With AVX-512's 32 registers the same conv takes 48-lane tiles too, of up to 8 rows: one forall
// of an item per output row, 14 columns as 2 x 7, each edge tile in pieces of 1 and 6 rows.
// CHECK-LABEL: func.func @three_vectors
// CHECK: tensor.empty() : tensor<1x1x14x14x48xf32>
// CHECK: scf.forall (%{{.*}}) in (14)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x48xf32>) outs(%{{.*}} : tensor<1x48xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x48xf32>) outs(%{{.*}} : tensor<6x48xf32>)
// CHECK: tensor.parallel_insert_slice %{{.*}} [1, 1, 1, 14, 48]
// CHECK-NOT: scf.forall (
// CHECK: return
func.func @three_vectors(%x: tensor<1x1x14x14x8xf32>, %w: tensor<1x3x3x8x48xf32>) -> tensor<1x1x14x14x48xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x1x14x14x8xf32> to tensor<1x1x16x16x8xf32>
  %e = tensor.empty() : tensor<1x1x14x14x48xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x14x14x48xf32>) -> tensor<1x1x14x14x48xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x1x16x16x8xf32>, tensor<1x3x3x8x48xf32>) outs(%i : tensor<1x1x14x14x48xf32>) -> tensor<1x1x14x14x48xf32>
  return %y : tensor<1x1x14x14x48xf32>
}

// Tests 14 output columns of two-vector tiles with AVX2 registers (F = 16, an even number of output
// rows): two 6-row tiles (12 accumulators) and a 2-column tail at column 12 whose tiles take two
// output rows each (2 x 2 x 16: 8 accumulators), not three 5-row tiles over a zero column (10),
// and the output is neither padded nor copied.
// AVX2-LABEL: func.func @pair_tail
// AVX2-NOT: tensor.pad {{.*}} high[0, 0, 1, 2, 0]
// AVX2: %[[EMPTY:.*]] = tensor.empty() : tensor<1x1x14x14x16xf32>
// AVX2: %[[MAIN:.*]] = scf.forall (%[[ROW0:.*]]) in (14) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<6x16xf32>)
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, 0, %[[ROW0]], 0, 0] [1, 1, 1, 12, 16]
// AVX2: %[[TAIL:.*]] = scf.forall (%{{.*}}) in (7) shared_outs(%[[OUT2:.*]] = %[[MAIN]])
// AVX2: %[[OH:.*]] = arith.muli %{{.*}}, %c2
// AVX2: tensor.extract_slice %[[OUT2]][0, 0, %[[OH]], 12, 0] [1, 1, 2, 2, 16] {{.*}} to tensor<2x2x16xf32>
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT2]][0, 0, %[[OH]], 12, 0] [1, 1, 2, 2, 16]
// AVX2: return %[[TAIL]]
func.func @pair_tail(%x: tensor<1x1x14x14x8xf32>, %w: tensor<1x3x3x8x16xf32>) -> tensor<1x1x14x14x16xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x1x14x14x8xf32> to tensor<1x1x16x16x8xf32>
  %e = tensor.empty() : tensor<1x1x14x14x16xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x14x14x16xf32>) -> tensor<1x1x14x14x16xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x1x16x16x8xf32>, tensor<1x3x3x8x16xf32>) outs(%i : tensor<1x1x14x14x16xf32>) -> tensor<1x1x14x14x16xf32>
  return %y : tensor<1x1x14x14x16xf32>
}

// Tests frame pairs with AVX2 registers: a 1x3x3 conv with 7 output columns (a 6-row tile of two
// vectors would leave a 1-column tail, 7 x 16 would be 14 accumulators and no register for the
// filter), 2 output frames and 8 channels (one vector: no two-vector flat tiles): one item per
// output row, its tile the row of both frames (2 x 7 rows of one vector: 14 accumulators), in
// edge pieces of rows 0, 1-5 and 6 per frame, each frame's pieces reading its own input frame.
// The pair is one slice of the output, started from zeros and stored whole; once bufferized,
// nothing is allocated or copied per item.
// AVX2-LABEL: func.func @frame_pairs
// AVX2: %[[EMPTY:.*]] = tensor.empty() : tensor<1x2x7x7x8xf32>
// AVX2: scf.forall (%[[ROW:.*]]) in (7) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// AVX2: %[[PAIR:.*]] = tensor.extract_slice %[[OUT]][0, 0, %[[ROW]], 0, 0] [1, 2, 1, 7, 8] [1, 1, 1, 1, 1] : tensor<1x2x7x7x8xf32> to tensor<2x7x8xf32>
// AVX2: vector.transfer_write %{{.*}}, %[[PAIR]][%c0, %c0, %c0] {{.*}} : vector<7x8xf32>, tensor<2x7x8xf32>
// AVX2: vector.transfer_write %{{.*}}[%c1, %c0, %c0] {{.*}} : vector<7x8xf32>, tensor<2x7x8xf32>
// AVX2-DAG: tensor.extract_slice %{{.*}}[0, 0, %{{.*}}, 1, 0] [1, 1, 1, 5, 8] {{.*}} : tensor<1x2x9x9x8xf32> to tensor<5x8xf32>
// AVX2-DAG: tensor.extract_slice %{{.*}}[0, 1, %{{.*}}, 1, 0] [1, 1, 1, 5, 8] {{.*}} : tensor<1x2x9x9x8xf32> to tensor<5x8xf32>
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<5x8xf32>, tensor<8x8xf32>) outs(%{{.*}} : tensor<5x8xf32>)
// AVX2: vector.transfer_write %{{.*}}[%c0, %c1, %c0] {{.*}} : vector<5x8xf32>, tensor<2x7x8xf32>
// AVX2: vector.transfer_write %{{.*}}[%c1, %c6, %c0] {{.*}} : vector<1x8xf32>, tensor<2x7x8xf32>
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, 0, %[[ROW]], 0, 0] [1, 2, 1, 7, 8]
// AVX2BUF-LABEL: func.func @frame_pairs
// AVX2BUF: memref.alloc() {{.*}} : memref<1x2x7x7x8xf32>
// AVX2BUF-NEXT: scf.forall
// AVX2BUF-NOT: memref.alloc
// AVX2BUF-NOT: memref.copy
// AVX2BUF: return
func.func @frame_pairs(%x: tensor<1x2x7x7x8xf32>, %w: tensor<1x3x3x8x8xf32>) -> tensor<1x2x7x7x8xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x2x7x7x8xf32> to tensor<1x2x9x9x8xf32>
  %e = tensor.empty() : tensor<1x2x7x7x8xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x2x9x9x8xf32>, tensor<1x3x3x8x8xf32>) outs(%i : tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32>
  return %y : tensor<1x2x7x7x8xf32>
}

// Tests flat tiles with AVX2 registers: the same conv with 16 channels (two vectors). Each frame's
// 49 positions in row-major tiles of 6 (8 x 6 + 1: with the padding skipped, 5-position tiles
// would lose a row at most taps and wait on the FMA latency), one item per frame. A tile's rows
// come in pieces of one output row, cut where a tap along W reads padding, and its taps along H in
// ranges that the same rows read: tile 0 (row 0, columns 0-5) only taps 1-2 along H, its column 0
// not at tap 0 along W; tile 1 (row 0's column 6, row 1's columns 0-4) tap 0 along H for row 1
// alone, then taps 1-2 for both rows. Each piece's sum is a tensor of its own, written into the
// frame's block once at the tile's end; once bufferized, nothing is allocated or copied per item.
// AVX2-LABEL: func.func @flat_tiles
// AVX2: %[[EMPTY:.*]] = tensor.empty() : tensor<1x2x7x7x16xf32>
// AVX2: scf.forall (%[[FRAME:.*]]) in (2) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// AVX2: %[[BLOCK:.*]] = tensor.extract_slice %[[OUT]][0, %[[FRAME]], 0, 0, 0] [1, 1, 7, 7, 16] [1, 1, 1, 1, 1] : tensor<1x2x7x7x16xf32> to tensor<7x7x16xf32>
// AVX2: scf.for %{{.*}} = %c1 to %c3 step %c1 iter_args({{.*}}) -> (tensor<1x16xf32>, tensor<5x16xf32>)
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<5x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<5x16xf32>)
// AVX2: scf.for %{{.*}} = %c1 to %c3 step %c1
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<1x16xf32>)
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<5x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<5x16xf32>)
// AVX2: %[[T0:.*]] = vector.transfer_write %{{.*}}, %[[BLOCK]][%c0, %c0, %c0] {{.*}} : vector<1x16xf32>, tensor<7x7x16xf32>
// AVX2: vector.transfer_write %{{.*}}, %[[T0]][%c0, %c1, %c0] {{.*}} : vector<5x16xf32>, tensor<7x7x16xf32>
// AVX2-NOT: scf.for
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// AVX2: scf.for %{{.*}} = %c1 to %c3 step %c1 iter_args({{.*}}) -> (tensor<1x16xf32>, tensor<4x16xf32>)
// AVX2: scf.for %{{.*}} = %c1 to %c3 step %c1 iter_args({{.*}}) -> (tensor<1x16xf32>, tensor<1x16xf32>, tensor<4x16xf32>)
// AVX2: vector.transfer_write %{{.*}}[%c0, %c6, %c0] {{.*}} : vector<1x16xf32>, tensor<7x7x16xf32>
// AVX2: vector.transfer_write %{{.*}}[%c1, %c0, %c0] {{.*}} : vector<1x16xf32>, tensor<7x7x16xf32>
// AVX2: vector.transfer_write %{{.*}}[%c1, %c1, %c0] {{.*}} : vector<4x16xf32>, tensor<7x7x16xf32>
// AVX2: vector.transfer_write %{{.*}}[%c6, %c6, %c0] {{.*}} : vector<1x16xf32>, tensor<7x7x16xf32>
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[FRAME]], 0, 0, 0] [1, 1, 7, 7, 16]
// AVX2BUF-LABEL: func.func @flat_tiles
// AVX2BUF: memref.alloc() {{.*}} : memref<1x2x7x7x16xf32>
// AVX2BUF-NEXT: scf.forall
// AVX2BUF-NOT: memref.alloc
// AVX2BUF-NOT: memref.copy
// AVX2BUF: return
func.func @flat_tiles(%x: tensor<1x2x7x7x8xf32>, %w: tensor<1x3x3x8x16xf32>) -> tensor<1x2x7x7x16xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] { ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32 } : tensor<1x2x7x7x8xf32> to tensor<1x2x9x9x8xf32>
  %e = tensor.empty() : tensor<1x2x7x7x16xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x7x7x16xf32>) -> tensor<1x2x7x7x16xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x2x9x9x8xf32>, tensor<1x3x3x8x16xf32>) outs(%i : tensor<1x2x7x7x16xf32>) -> tensor<1x2x7x7x16xf32>
  return %y : tensor<1x2x7x7x16xf32>
}

// Tests the larger packed slice for output frames that flat tiles suit: with AVX2 registers a
// 1x3x3 conv of 1152 channels at 7x7 has a 16-lane slice of 648 KB, above kPackedSliceL2Bytes:
// packed (one frame per filter block) with flat tiles of 5 positions, each summing all 1152
// channels of each tap, where it went reduction-outer before. At 14x14 (no flat tiles) the same
// filter stays reduction-outer in blocks of 128 channels, as it does with AVX-512's 32-lane
// slices (1.3 MB) at 7x7.
// AVX2-LABEL: func.func @packed_flat_wide_slice
// AVX2: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x3x3x1152x32xf32>) outs(%{{.*}} : tensor<2x1x3x3x1152x16xf32>)
// AVX2-SAME: vidnet.weight_pack
// AVX2: scf.forall (%{{.*}}) in (2)
// AVX2: scf.for %{{.*}} = %c0 to %c1152 step %c8 iter_args(%{{.*}}) -> (tensor<5x16xf32>)
// AVX2-NOT: step %c128
// AVX2: return
// AVX2-LABEL: func.func @wide_slice_not_flat
// AVX2-NOT: vidnet.weight_pack
// AVX2: scf.for %{{.*}} = %c0 to %c1152 step %c128 iter_args(%{{.*}}) -> (tensor<1x1x14x15x16xf32>)
// CHECK-LABEL: func.func @packed_flat_wide_slice
// CHECK-NOT: vidnet.weight_pack
// CHECK: scf.for %{{.*}} = %c0 to %c1152 step %c128 iter_args(%{{.*}}) -> (tensor<1x1x7x7x32xf32>)
func.func @packed_flat_wide_slice(%x: tensor<1x1x9x9x1152xf32>, %w: tensor<1x3x3x1152x32xf32>) -> tensor<1x1x7x7x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x7x7x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x7x7x32xf32>) -> tensor<1x1x7x7x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x1x9x9x1152xf32>, tensor<1x3x3x1152x32xf32>) outs(%i : tensor<1x1x7x7x32xf32>) -> tensor<1x1x7x7x32xf32>
  return %y : tensor<1x1x7x7x32xf32>
}

func.func @wide_slice_not_flat(%x: tensor<1x1x16x16x1152xf32>, %w: tensor<1x3x3x1152x32xf32>) -> tensor<1x1x14x14x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x14x14x32xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x14x14x32xf32>) -> tensor<1x1x14x14x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x1x16x16x1152xf32>, tensor<1x3x3x1152x32xf32>) outs(%i : tensor<1x1x14x14x32xf32>) -> tensor<1x1x14x14x32xf32>
  return %y : tensor<1x1x14x14x32xf32>
}

// Tests row pairs with AVX2 registers: 26 columns as four 6-row tiles and a 2-column tail (a
// third of a tile: 4 FMA chains alone), whose tiles take two output rows each (2 x 2 x 16: 8
// chains), their pieces reading input rows oh + kh and oh + 1 + kh; the pair is one slice of the
// output, and once bufferized nothing is allocated or copied per item.
// AVX2-LABEL: func.func @row_pairs
// AVX2: %[[MAIN:.*]] = scf.forall (%{{.*}}) in (4)
// AVX2: tensor.parallel_insert_slice %{{.*}} [1, 1, 1, 24, 16]
// AVX2: scf.forall (%[[ITEM:.*]]) in (2) shared_outs(%[[OUT:.*]] = %[[MAIN]])
// AVX2: %[[OH:.*]] = arith.muli %[[ITEM]], %c2
// AVX2: tensor.extract_slice %[[OUT]][0, 0, %[[OH]], 24, 0] [1, 1, 2, 2, 16] [1, 1, 1, 1, 1] : tensor<1x1x4x26x16xf32> to tensor<2x2x16xf32>
// AVX2: tensor.extract_slice %{{.*}} [1, 1, 1, 2, 8] {{.*}} to tensor<2x8xf32>
// AVX2: tensor.extract_slice %{{.*}} [1, 1, 1, 2, 8] {{.*}} to tensor<2x8xf32>
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<2x16xf32>)
// AVX2: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<2x16xf32>)
// AVX2: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, 0, %[[OH]], 24, 0] [1, 1, 2, 2, 16]
// AVX2BUF-LABEL: func.func @row_pairs
// AVX2BUF: memref.alloc() {{.*}} : memref<1x1x4x26x16xf32>
// AVX2BUF-NEXT: scf.forall
// AVX2BUF-NOT: memref.alloc
// AVX2BUF-NOT: memref.copy
// AVX2BUF: return
func.func @row_pairs(%x: tensor<1x1x6x28x8xf32>, %w: tensor<1x3x3x8x16xf32>) -> tensor<1x1x4x26x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x4x26x16xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x4x26x16xf32>) -> tensor<1x1x4x26x16xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x1x6x28x8xf32>, tensor<1x3x3x8x16xf32>) outs(%i : tensor<1x1x4x26x16xf32>) -> tensor<1x1x4x26x16xf32>
  return %y : tensor<1x1x4x26x16xf32>
}

// Tests that with AVX-512's 32 registers, F = 64 takes tiles of four vectors and 6 rows (24
// accumulators, 4 filter vectors and a broadcast): 14 columns as two 6-row tiles in one item
// and the 2 columns left as a tail of two output rows per item, every tile 64 lanes wide.
// CHECK-LABEL: func.func @four_vectors
// CHECK: scf.forall (%{{.*}}) in (28)
// CHECK: affine.delinearize_index %{{.*}} into (2, 14)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x64xf32>) outs(%{{.*}} : tensor<6x64xf32>)
// CHECK: tensor.parallel_insert_slice %{{.*}} [1, 1, 1, 12, 64]
// CHECK: scf.forall (%{{.*}}) in (14)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8x64xf32>) outs(%{{.*}} : tensor<2x64xf32>)
// CHECK: tensor.parallel_insert_slice %{{.*}} [1, 1, 2, 2, 64]
// CHECK-NOT: tensor<{{[0-9]+}}x32xf32>
// CHECK: return
func.func @four_vectors(%x: tensor<1x2x16x16x8xf32>, %w: tensor<1x3x3x8x64xf32>) -> tensor<1x2x14x14x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x14x14x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x14x14x64xf32>) -> tensor<1x2x14x14x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<1x2x16x16x8xf32>, tensor<1x3x3x8x64xf32>) outs(%i : tensor<1x2x14x14x64xf32>) -> tensor<1x2x14x14x64xf32>
  return %y : tensor<1x2x14x14x64xf32>
}


// Tests that with AVX-512's 32 registers a 7 x 7 frame (a row one 7 x 32 tile: 14 accumulators)
// takes flat tiles of up to 14 positions (28 accumulators), each filter vector read for twice the
// products: one item per (clip, filter block), the frame's 49 positions in row-major tiles of 13
// (a run of r positions costs max(r, 13) steps of the FMA pipes: 4 x 13 against 3 x 14 + 13 for
// tiles of 14), a tile's rows in pieces of one output row (positions 13-25: row 1's column 6, row
// 2, row 3's columns 0-4), each piece written into the block once.
// CHECK-LABEL: func.func @flat_avx512
// CHECK: scf.forall (%[[ITEM:.*]]) in (4) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[BLOCK:.*]] = tensor.extract_slice %[[OUT]][%{{.*}}, 0, 0, 0, %{{.*}}] [1, 1, 7, 7, 32] {{.*}} to tensor<7x7x32xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<7x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<6x32xf32>)
// CHECK: %[[T0:.*]] = vector.transfer_write %{{.*}}, %[[BLOCK]][%c0, %c0, %c0] {{.*}} : vector<7x32xf32>, tensor<7x7x32xf32>
// CHECK: %[[T1:.*]] = vector.transfer_write %{{.*}}, %[[T0]][%c1, %c0, %c0] {{.*}} : vector<6x32xf32>, tensor<7x7x32xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<1x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<7x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<7x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<5x8xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<5x32xf32>)
// CHECK: vector.transfer_write %{{.*}}, %[[T1]][%c1, %c6, %c0] {{.*}} : vector<1x32xf32>, tensor<7x7x32xf32>
// CHECK: vector.transfer_write %{{.*}}[%c6, %c0, %c0] {{.*}} : vector<7x32xf32>, tensor<7x7x32xf32>
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]]
func.func @flat_avx512(%x: tensor<2x1x9x9x64xf32>, %w: tensor<1x3x3x64x64xf32>) -> tensor<2x1x7x7x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1x7x7x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<2x1x7x7x64xf32>) -> tensor<2x1x7x7x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<2x1x9x9x64xf32>, tensor<1x3x3x64x64xf32>) outs(%i : tensor<2x1x7x7x64xf32>) -> tensor<2x1x7x7x64xf32>
  return %y : tensor<2x1x7x7x64xf32>
}
