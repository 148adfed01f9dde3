// RUN: vidnet-opt --split-input-file --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-convs{print-schedules=true}))' %s -o /dev/null 2>&1 | FileCheck %s
// RUN: vidnet-opt --split-input-file --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-convs{vector-bits=256 print-schedules=true}))' %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=AVX2

// Tests that print-schedules prints one line per conv: its function and kind, its shapes (the zero-padded input,
// the kernel, the strides, the output), then the schedule's decisions, then each forall: its
// kind, lane part (base + lanes / tile lanes), column part (base + columns / tile rows), items.
// A strided 3x3x3 conv with 45 output channels: F padded to 48; with AVX-512 a forall of 8 x 32
// tiles and one of 8 x 16 (rows of 8 columns take no wider tiles), each block an edge tile; with
// AVX2 one of 4 x 24 tiles, two blocks per row, the first an edge tile.
// CHECK: @conv conv: conv 1x6x18x18x8 * 3x3x3 /1x2x2 -> 1x4x8x8x45: ctile 8 F 45->48 from-zero filter-inner; [rows lanes 0+32/32 cols 0+8/8 items 32 edges 0] [rows lanes 32+16/16 cols 0+8/8 items 32 edges 0]
// AVX2: @conv conv: conv 1x6x18x18x8 * 3x3x3 /1x2x2 -> 1x4x8x8x45: ctile 8 F 45->48 wide 3 from-zero filter-inner; [rows lanes 0+48/24 cols 0+8/4 items 64 edges 0]
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

// -----

// Tests that a conv whose filter block would not stay in L2 prints as reduction-outer (its
// 64-channel blocks, one clip per item, the next block prefetched) with AVX-512, and with AVX2 as
// flat tiles of 5 positions over a packed filter.
// CHECK: @wide conv: conv 2x3x9x9x192 * 3x3x3 /1x1x1 -> 2x1x7x7x64: ctile 8 cblock 64; [reduction-outer lanes 0+64/32 cols 0+7/7 items 4 clips 1 prefetch-filter]
// AVX2: @wide conv: conv 2x3x9x9x192 * 3x3x3 /1x1x1 -> 2x1x7x7x64: ctile 8 flat 5 packed d0+3 h0+3 from-zero epilogue; [flat lanes 0+64/16 cols 0+7/7 items 8]
func.func @wide(%x: tensor<2x3x9x9x192xf32>, %w: tensor<3x3x3x192x64xf32>) -> tensor<2x1x7x7x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1x7x7x64xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<2x1x7x7x64xf32>) -> tensor<2x1x7x7x64xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x, %w : tensor<2x3x9x9x192xf32>, tensor<3x3x3x192x64xf32>) outs(%i : tensor<2x1x7x7x64xf32>) -> tensor<2x1x7x7x64xf32>
  return %y : tensor<2x1x7x7x64xf32>
}

// -----

// Tests that a reduction-outer conv whose channels have no divisor of at least 32 (921 = 3 x 307)
// prints C padded to 936 in blocks of 104 (AVX-512; with AVX2 its packed flat tiles keep 921),
// and that a conv onto an init other than zeros prints no from-zero: a line per conv, in the
// function's order.
// CHECK: @ragged_and_onto conv: conv 1x1x9x9x921 * 1x3x3 /1x1x1 -> 1x1x7x7x512: C 921->936 ctile 8 cblock 104; [reduction-outer lanes 0+512/32 cols 0+7/7 items 16 edges 0 clips 1 prefetch-filter]
// CHECK-NEXT: @ragged_and_onto conv: conv 1x2x4x8x8 * 1x1x1 /1x1x1 -> 1x2x4x8x16: ctile 8 filter-inner prefetch-input; [rows lanes 0+16/16 cols 0+8/8 items 8]
// AVX2: @ragged_and_onto conv: conv 1x1x9x9x921 * 1x3x3 /1x1x1 -> 1x1x7x7x512: ctile 3 flat 6 packed d0+1 h0+3 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 32 edges 0]
// AVX2-NEXT: @ragged_and_onto conv: conv 1x2x4x8x8 * 1x1x1 /1x1x1 -> 1x2x4x8x16: ctile 8 filter-inner prefetch-input; [rows lanes 0+16/16 cols 0+6/6 items 8] [row-pairs lanes 0+16/16 cols 6+2/2 items 4]
func.func @ragged_and_onto(%x: tensor<1x1x7x7x921xf32>, %w: tensor<1x3x3x921x512xf32>, %x2: tensor<1x2x4x8x8xf32>,
                           %w2: tensor<1x1x1x8x16xf32>, %b: tensor<1x2x4x8x16xf32>) -> (tensor<1x1x7x7x512xf32>, tensor<1x2x4x8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] { ^bb0(%a: index, %b0: index, %c: index, %d: index, %e0: index):
    tensor.yield %zero : f32 } : tensor<1x1x7x7x921xf32> to tensor<1x1x9x9x921xf32>
  %e = tensor.empty() : tensor<1x1x7x7x512xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x7x7x512xf32>) -> tensor<1x1x7x7x512xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%p, %w : tensor<1x1x9x9x921xf32>, tensor<1x3x3x921x512xf32>) outs(%i : tensor<1x1x7x7x512xf32>) -> tensor<1x1x7x7x512xf32>
  %y2 = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
       ins(%x2, %w2 : tensor<1x2x4x8x8xf32>, tensor<1x1x1x8x16xf32>) outs(%b : tensor<1x2x4x8x16xf32>) -> tensor<1x2x4x8x16xf32>
  return %y, %y2 : tensor<1x1x7x7x512xf32>, tensor<1x2x4x8x16xf32>
}
