// RUN: vidnet-opt --pass-pipeline='builtin.module(vidnet-export-abi,eliminate-empty-tensors,one-shot-bufferize,canonicalize)' %s | FileCheck %s

// Tests the CPU pipeline's bufferization of an entry point's results (here the logits; in
// train_step the new parameters and momenta, every SGD update's two results): the op that
// computes a result writes it into the caller's buffer, with no buffer of its own and no copy
// into the caller's afterwards. Without eliminate-empty-tensors one-shot-bufferize allocates
// the result and copies it (r3d_18's train_step spent 20-40 ms per step in such serial copies).
// CHECK-LABEL: func.func @vidnet_forward(
// CHECK-SAME: %[[Y:[a-z0-9]+]]: memref<1x5xf32> {vidnet.abi = "logits"})
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic {{.*}} outs(%[[Y]] : memref<1x5xf32>)
// CHECK-NOT: memref.copy
// CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @forward(%x: tensor<1x5xf32> {vidnet.name = "input"}, %b: tensor<5xf32> {vidnet.name = "fc.bias"}) -> tensor<1x5xf32> {
  %e = tensor.empty() : tensor<1x5xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<1x5xf32>, tensor<5xf32>) outs(%e : tensor<1x5xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<1x5xf32>
  return %y : tensor<1x5xf32>
}
