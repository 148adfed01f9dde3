// RUN: vidnet-opt --split-input-file --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-filter-grads{print-schedules}))' %s -o /dev/null 2>&1 | FileCheck %s
// RUN: vidnet-opt --split-input-file --pass-pipeline='builtin.module(func.func(vidnet-cpu-tile-filter-grads{vector-bits=256 print-schedules}))' %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=AVX2
// RUN: vidnet-opt --split-input-file --vidnet-cpu-tile-filter-grads %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty

// Tests that print-schedules prints a filter gradient's schedule on one line: the strided one
// with 45 output channels of tile_filter_grads.mlir's @dw, whose dy's lanes are padded to 48 (a
// block of 32 and half of one), in 24 chunks of 32 rows, each chunk a loop over its 54 tiles
// (3x3x3 taps x 1 c-block x 2 f-blocks); on AVX2 tiles of 4 x 16, 162 of them. Its first tap along W
// reads padding (x's column -1) for its first position: the tap sums only the others. Without the option nothing is
// printed.
// CHECK: 3x3x3 8->45 /1x2x2, out 2x4x96x8: tile=8x32 ow=8 kw=3x1 c=8/1 f=64/2 dy=48 half-block items=54 operands=in-place chunks=24x32 order=chunk-then-tiles skip-w=1{{$}}
// AVX2: 3x3x3 8->45 /1x2x2, out 2x4x96x8: tile=4x16 ow=8 kw=3x1 c=8/2 f=48/3 dy=48 items=162 operands=in-place chunks=24x32 order=chunk-then-tiles skip-w=1{{$}}
// QUIET-NOT: {{.}}
func.func @dw(%x: tensor<2x4x192x16x8xf32>, %dy: tensor<2x4x96x8x45xf32>) -> tensor<3x3x3x8x45xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 2, 2] padding [1, 1, 1] groups 1
      : tensor<2x4x192x16x8xf32>, tensor<2x4x96x8x45xf32> -> tensor<3x3x3x8x45xf32>
  return %dw : tensor<3x3x3x8x45xf32>
}

// -----

// Tests that each filter gradient of a function gets its own line, in order: a stem's 3
// channels with the 7 taps along W in groups of 4 and 3 (of 2 on AVX2), then a 1x1x1 one with a
// small dW summed in parts from x and dy in place, each item prefetching the next chunk's rows.
// CHECK: 1x7x7 3->64 /1x2x2, out 1x2x5x8: tile=3x32 ow=8 kw=2x4 last-kw=3 c=3/1 f=64/2 dy=64 items=28 operands=in-place chunks=1x10 whole order=chunk-then-tiles{{$}}
// CHECK-NEXT: 1x1x1 64->128 /2x2x2, out 1x4x14x14: tile=8x32 ow=7 kw=1x1 c=64/8 f=128/4 dy=128 items=32 operands=in-place chunks=28x2 pointwise order=parts parts=14x2 prefetch{{$}}
// AVX2: 1x7x7 3->64 /1x2x2, out 1x2x5x8: tile=3x16 ow=8 kw=4x2 last-kw=1 c=3/1 f=64/4 dy=64 items=112 operands=in-place chunks=1x10 whole order=chunk-then-tiles{{$}}
// AVX2-NEXT: 1x1x1 64->128 /2x2x2, out 1x4x14x14: tile=6x16 ow=7 kw=1x1 c=66/11 tail=4 f=128/8 dy=128 items=88 operands=in-place chunks=28x2 pointwise order=parts parts=14x2 prefetch{{$}}
func.func @two(%x: tensor<1x2x10x16x3xf32>, %dy: tensor<1x2x5x8x64xf32>, %x2: tensor<1x8x28x28x64xf32>,
               %dy2: tensor<1x4x14x14x128xf32>) -> (tensor<1x7x7x3x64xf32>, tensor<1x1x1x64x128xf32>) {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 2, 2] padding [0, 3, 3] groups 1
      : tensor<1x2x10x16x3xf32>, tensor<1x2x5x8x64xf32> -> tensor<1x7x7x3x64xf32>
  %dw2 = vidnet.conv_backward_filter %x2, %dy2 strides [2, 2, 2] padding [0, 0, 0] groups 1
      : tensor<1x8x28x28x64xf32>, tensor<1x4x14x14x128xf32> -> tensor<1x1x1x64x128xf32>
  return %dw, %dw2 : tensor<1x7x7x3x64xf32>, tensor<1x1x1x64x128xf32>
}

// -----

// Tests that the line names a schedule's W-padding skip (7 output columns, one block of them)
// and the streamed stores of a large dW summed in one chunk, its x and dy copied into blocks.
// CHECK: 1x3x3 8->32 /1x1x1, out 1x2x7x7: {{.*}} chunks=1x14 whole order=chunk-then-tiles skip-w=1{{$}}
// CHECK-NEXT: 3x3x3 512->512 /1x1x1, out 2x1x7x7: {{.*}} operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1{{$}}
func.func @skip_and_stream(%x: tensor<1x2x7x7x8xf32>, %dy: tensor<1x2x7x7x32xf32>, %x2: tensor<2x1x7x7x512xf32>,
                           %dy2: tensor<2x1x7x7x512xf32>) -> (tensor<1x3x3x8x32xf32>, tensor<3x3x3x512x512xf32>) {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [0, 1, 1] groups 1
      : tensor<1x2x7x7x8xf32>, tensor<1x2x7x7x32xf32> -> tensor<1x3x3x8x32xf32>
  %dw2 = vidnet.conv_backward_filter %x2, %dy2 strides [1, 1, 1] padding [1, 1, 1] groups 1
      : tensor<2x1x7x7x512xf32>, tensor<2x1x7x7x512xf32> -> tensor<3x3x3x512x512xf32>
  return %dw, %dw2 : tensor<1x3x3x8x32xf32>, tensor<3x3x3x512x512xf32>
}
