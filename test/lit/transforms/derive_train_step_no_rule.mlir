// RUN: not vidnet-opt --vidnet-derive-train-step %s 2>&1 | FileCheck %s

// Tests that an op on the path to the loss without a VJP rule (here vidnet.conv2plus1d, which
// vidnet-decompose-2plus1d must split first) is an error naming the op and its spec line.
// CHECK: r2plus1d.vnet:7:3: error: 'vidnet.conv2plus1d' op has no VJP rule (DifferentiableOpInterface)
// CHECK-NOT: func.func @train_step
func.func @forward(%x: tensor<1x2x4x4x3xf32> {vidnet.name = "input"},
                   %ws: tensor<1x3x3x3x4xf32> {vidnet.name = "stem.0.weight"},
                   %g: tensor<4xf32> {vidnet.name = "stem.1.weight"},
                   %b: tensor<4xf32> {vidnet.name = "stem.1.bias"},
                   %m: tensor<4xf32> {vidnet.name = "stem.1.running_mean", vidnet.state},
                   %v: tensor<4xf32> {vidnet.name = "stem.1.running_var", vidnet.state},
                   %wt: tensor<3x1x1x4x2xf32> {vidnet.name = "stem.3.weight"},
                   %fw: tensor<2x5xf32> {vidnet.name = "fc.weight"},
                   %fb: tensor<5xf32> {vidnet.name = "fc.bias"}) -> tensor<1x5xf32> {
  %y = vidnet.conv2plus1d %x, %ws, %g, %b, %m, %v, %wt mid 4 strides [1, 1, 1] padding [1, 1, 1] epsilon 1.0e-05
      : (tensor<1x2x4x4x3xf32>, tensor<1x3x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>,
         tensor<3x1x1x4x2xf32>) -> tensor<1x2x4x4x2xf32> loc("r2plus1d.vnet":7:3)
  %p = vidnet.global_avg_pool %y : tensor<1x2x4x4x2xf32> -> tensor<1x2xf32>
  %l = vidnet.dense %p, %fw, %fb : (tensor<1x2xf32>, tensor<2x5xf32>, tensor<5xf32>) -> tensor<1x5xf32>
  return %l : tensor<1x5xf32>
}
