// RUN: vidnet-opt --vidnet-cpu-tile-convs --canonicalize %s | FileCheck %s

// Tests that a strided 3x3x3 conv with 45 output channels becomes static register tiles:
// filters padded to 48 (lanes in blocks of 16), 8 output columns x 16 channels per tile, input
// rows read with the W stride (2), a matmul per (kd, kh, kw), and the padding sliced away.
// Every tile is one item of a single forall (3 filter blocks x 4 x 8 output rows x 1 column
// block), the items in the serial nest's order: filter block, then od, then oh.
// CHECK-LABEL: func.func @conv
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 3]
// CHECK: %[[INIT:.*]] = linalg.fill {{.*}} -> tensor<1x4x8x8x48xf32>
// CHECK: %[[ALL:.*]] = scf.forall (%[[ITEM:.*]]) in (96) shared_outs(%[[OUT:.*]] = %[[INIT]])
// CHECK: %[[IDX:.*]]:3 = affine.delinearize_index %[[ITEM]] into (3, 4, 8)
// CHECK: %[[FB:.*]] = arith.muli %[[IDX]]#0, %c16
// CHECK: %[[TILE:.*]] = tensor.extract_slice %[[OUT]][0, %[[IDX]]#1, %[[IDX]]#2, 0, %[[FB]]] [1, 1, 1, 8, 16] [1, 1, 1, 1, 1] : tensor<1x4x8x8x48xf32> to tensor<8x16xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[TILE]])
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 8, 8] [1, 1, 1, 2, 1] : tensor<1x6x18x18x8xf32> to tensor<8x8xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<8x16xf32>)
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[IDX]]#1, %[[IDX]]#2, 0, %[[FB]]] [1, 1, 1, 8, 16]
// CHECK: tensor.extract_slice %[[ALL]][0, 0, 0, 0, 0] [1, 4, 8, 8, 45] [1, 1, 1, 1, 1]
// CHECK-NOT: linalg.conv_3d
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
