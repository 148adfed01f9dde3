// RUN: vidnet-opt --vidnet-export-abi %s | FileCheck %s

// Tests that forward becomes the bundle entry point over caller-owned flat buffers: the
// clips and logits as memrefs, parameters as 64-byte-aligned views into one buffer and BN
// running statistics into another, in argument order, the logits and the pooled features
// written in place.
// CHECK-LABEL: func.func @vidnet_forward(
// CHECK-SAME: %[[X:.*]]: memref<1x2x4x4x3xf32> {vidnet.abi = "clips"}, %[[P:.*]]: memref<69xf32> {vidnet.abi = "params"}, %[[S:.*]]: memref<21xf32> {vidnet.abi = "state"}, %[[Y:.*]]: memref<1x5xf32> {vidnet.abi = "logits"}, %[[F:.*]]: memref<1x5xf32> {vidnet.abi = "features"})
// CHECK: bufferization.to_tensor %[[X]] restrict
// CHECK: memref.reinterpret_cast %[[P]] to offset: [0], sizes: [1, 1, 1, 3, 5], strides: [15, 15, 15, 5, 1]
// CHECK: memref.reinterpret_cast %[[P]] to offset: [16], sizes: [5]
// CHECK: memref.reinterpret_cast %[[S]] to offset: [0], sizes: [5]
// CHECK: memref.reinterpret_cast %[[S]] to offset: [16], sizes: [5]
// CHECK: memref.reinterpret_cast %[[P]] to offset: [32], sizes: [5, 5]
// CHECK: memref.reinterpret_cast %[[P]] to offset: [64], sizes: [5]
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[Y]]
// CHECK-NEXT: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[F]]
// CHECK-NEXT: return{{$}}
func.func @forward(%x: tensor<1x2x4x4x3xf32> {vidnet.name = "input"},
                   %w: tensor<1x1x1x3x5xf32> {vidnet.name = "stem.0.weight"},
                   %g: tensor<5xf32> {vidnet.name = "stem.1.weight"},
                   %m: tensor<5xf32> {vidnet.name = "stem.1.running_mean", vidnet.state},
                   %v: tensor<5xf32> {vidnet.name = "stem.1.running_var", vidnet.state},
                   %fw: tensor<5x5xf32> {vidnet.name = "fc.weight"},
                   %fb: tensor<5xf32> {vidnet.name = "fc.bias"}) -> (tensor<1x5xf32>, tensor<1x5xf32>) {
  %c = vidnet.conv %x, %w strides [1, 1, 1] padding [0, 0, 0] groups 1 : tensor<1x2x4x4x3xf32>, tensor<1x1x1x3x5xf32> -> tensor<1x2x4x4x5xf32>
  %n = vidnet.batch_norm %c, %g, %g, %m, %v epsilon 1.0e-05 : tensor<1x2x4x4x5xf32>, tensor<5xf32>
  %p = vidnet.global_avg_pool %n : tensor<1x2x4x4x5xf32> -> tensor<1x5xf32>
  %y = vidnet.dense %p, %fw, %fb : (tensor<1x5xf32>, tensor<5x5xf32>, tensor<5xf32>) -> tensor<1x5xf32>
  return %y, %p : tensor<1x5xf32>, tensor<1x5xf32>
}
