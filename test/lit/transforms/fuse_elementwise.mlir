// RUN: vidnet-opt --pass-pipeline="builtin.module(func.func(vidnet-fuse-elementwise))" %s | FileCheck %s

// Tests that an elementwise producer fuses into an elementwise consumer over the same loops,
// but not into a consumer with more loops, which would recompute it once per extra iteration
// (the gradient feeding a conv's filter-gradient reduction).
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d2)>
#out3 = affine_map<(d0, d1, d2) -> (d1, d2)>

// CHECK-LABEL: func.func @same_loops
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
func.func @same_loops(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%r : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @more_loops
// CHECK: %[[R:.*]] = linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} ins(%[[R]] : tensor<4x8xf32>)
func.func @more_loops(%x: tensor<4x8xf32>, %acc: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%r : tensor<4x8xf32>) outs(%acc : tensor<3x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<3x8xf32>
  return %s : tensor<3x8xf32>
}
