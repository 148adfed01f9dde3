// RUN: vidnet-opt %s | vidnet-opt | FileCheck %s
// RUN: vidnet-opt --mlir-print-op-generic %s | vidnet-opt | FileCheck %s

// Tests that vidnet.max_pool and vidnet.max_pool_backward print and parse back to the same IR:
// operands in order, the kernel, strides and padding (D, H, W) and the types.

// CHECK-LABEL: func.func @max_pool
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x8x56x56x64xf32>)
// CHECK: vidnet.max_pool %[[X]] kernel [1, 3, 3] strides [1, 2, 2] padding [0, 1, 1] : tensor<2x8x56x56x64xf32> -> tensor<2x8x28x28x64xf32>
func.func @max_pool(%x: tensor<2x8x56x56x64xf32>) -> tensor<2x8x28x28x64xf32> {
  %y = vidnet.max_pool %x kernel [1, 3, 3] strides [1, 2, 2] padding [0, 1, 1]
      : tensor<2x8x56x56x64xf32> -> tensor<2x8x28x28x64xf32>
  return %y : tensor<2x8x28x28x64xf32>
}

// CHECK-LABEL: func.func @max_pool_backward
// CHECK-SAME: (%[[DY:[^:]+]]: tensor<1x1x4x4x8xf32>, %[[X:[^:]+]]: tensor<1x2x7x7x8xf32>)
// CHECK: vidnet.max_pool_backward %[[DY]], %[[X]] kernel [2, 2, 2] strides [2, 2, 2] padding [0, 1, 1] : (tensor<1x1x4x4x8xf32>, tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32>
func.func @max_pool_backward(%dy: tensor<1x1x4x4x8xf32>, %x: tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32> {
  %dx = vidnet.max_pool_backward %dy, %x kernel [2, 2, 2] strides [2, 2, 2] padding [0, 1, 1]
      : (tensor<1x1x4x4x8xf32>, tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32>
  return %dx : tensor<1x2x7x7x8xf32>
}
