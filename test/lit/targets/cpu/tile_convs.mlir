// RUN: vidnet-opt --vidnet-cpu-tile-convs --canonicalize %s | FileCheck %s

// Tests that a strided 3x3x3 conv with 45 output channels becomes static register tiles:
// filters padded to 48 (lanes in blocks of 16), 8 output columns x 16 channels per tile, input
// rows read with the W stride (2), a matmul per (kd, kh, kw), and the padding sliced away.
// CHECK-LABEL: func.func @conv
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 3]
// CHECK: linalg.fill {{.*}} -> tensor<1x4x8x8x48xf32>
// CHECK: scf.for %[[FB:.*]] = %c0 to %c48 step %c16
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, 0, %[[FB]]] [1, 1, 1, 8, 16] [1, 1, 1, 1, 1] : tensor<1x4x8x8x48xf32> to tensor<8x16xf32>
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 8, 8] [1, 1, 1, 2, 1] : tensor<1x6x18x18x8xf32> to tensor<8x8xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<8x16xf32>)
// CHECK: tensor.insert_slice
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [1, 4, 8, 8, 45] [1, 1, 1, 1, 1]
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
