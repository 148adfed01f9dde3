// RUN: vidnet-opt --pass-pipeline="builtin.module(func.func(vidnet-elide-fills))" %s | FileCheck %s

// Tests that a strided data gradient's zero fill is dropped where its inserted phases overwrite
// every element, and where the gradient is only added to another one (then only the slice is
// added, into that one); and that it stays wherever some of it is read.
#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @add_into_slice
// CHECK-SAME: (%[[S:.*]]: tensor<2x4xf32>, %[[Y:.*]]: tensor<4x4xf32>)
// CHECK-NOT: linalg.fill
// CHECK: %[[YS:.*]] = tensor.extract_slice %[[Y]][1, 0] [2, 4] [2, 1] : tensor<4x4xf32> to tensor<2x4xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[YS]] : tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK: arith.addf
// CHECK: %[[R:.*]] = tensor.insert_slice %[[SUM]] into %[[Y]][1, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
// CHECK: return %[[R]]
func.func @add_into_slice(%s: tensor<2x4xf32>, %y: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %a = tensor.insert_slice %s into %z[1, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %y : tensor<4x4xf32>, tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %t = arith.addf %p, %q : f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// The other addend is read again afterwards: adding into it in place would change that read.
// CHECK-LABEL: func.func @other_addend_used_again
// CHECK: linalg.fill
// CHECK: linalg.generic
func.func @other_addend_used_again(%s: tensor<2x4xf32>, %y: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %a = tensor.insert_slice %s into %z[0, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %a : tensor<4x4xf32>, tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %t = arith.addf %p, %q : f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  return %r, %y : tensor<4x4xf32>, tensor<4x4xf32>
}

// A product is not an add: 0 * y is not y.
// CHECK-LABEL: func.func @not_an_add
// CHECK: linalg.fill
// CHECK: arith.mulf
func.func @not_an_add(%s: tensor<2x4xf32>, %y: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %a = tensor.insert_slice %s into %z[0, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %y : tensor<4x4xf32>, tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %t = arith.mulf %p, %q : f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// Two phases at stride 2 along the rows, rows 0 and 2 and rows 1 and 3:
// together every element, so the fill is never read.
// CHECK-LABEL: func.func @overwritten_fill
// CHECK-NOT: linalg.fill
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x4xf32>
// CHECK: tensor.insert_slice %{{.*}} into %[[E]][0, 0] [2, 4] [2, 1]
func.func @overwritten_fill(%p0: tensor<2x4xf32>, %p1: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %a = tensor.insert_slice %p0 into %z[0, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %b = tensor.insert_slice %p1 into %a[1, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  return %b : tensor<4x4xf32>
}

// Rows 0 and 2 only: rows 1 and 3 keep the fill's zeros.
// CHECK-LABEL: func.func @gaps_keep_the_fill
// CHECK: linalg.fill
func.func @gaps_keep_the_fill(%p0: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %a = tensor.insert_slice %p0 into %z[0, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  return %a : tensor<4x4xf32>
}

// Rows 0 and 2 twice: as many elements as the tensor, but rows 1 and 3 keep the zeros.
// CHECK-LABEL: func.func @overlaps_keep_the_fill
// CHECK: linalg.fill
func.func @overlaps_keep_the_fill(%p0: tensor<2x4xf32>, %p1: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %a = tensor.insert_slice %p0 into %z[0, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %b = tensor.insert_slice %p1 into %a[0, 0] [2, 4] [2, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  return %b : tensor<4x4xf32>
}
