// RUN: vidnet-opt --split-input-file --vidnet-lower-to-linalg %s | FileCheck %s --implicit-check-not='= vidnet.'
// Tests the linalg structure vidnet-lower-to-linalg gives max pooling and its input gradient;
// numerical checks of the same lowerings: test/lit/numerics/lowering_numerics.test.

// Tests that the forward pads with -inf (never a maximum) and takes the max over a window of
// the padded input in one generic: loops (n, od, oh, ow, kd, kh, kw, c), the taps reductions,
// channels innermost, the input read at o * stride + tap, from a -inf fill.
// CHECK-DAG: #[[WIN:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 2 + d4, d2 * 2 + d5, d3 * 2 + d6, d7)>
// CHECK-DAG: #[[OUT:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d7)>
// CHECK-LABEL: func.func @max_pool(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x2x7x7x4xf32>)
// CHECK: %[[NEGINF:[^ ]+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PADDED:[^ ]+]] = tensor.pad %[[X]] low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0]
// CHECK: tensor.yield %[[NEGINF]]
// CHECK: } : tensor<1x2x7x7x4xf32> to tensor<1x2x9x9x4xf32>
// CHECK: %[[TAPS:[^ ]+]] = tensor.empty() : tensor<2x2x2xf32>
// CHECK: %[[INIT:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<1x1x4x4x4xf32>)
// CHECK: %[[Y:[^ ]+]] = linalg.generic {indexing_maps = [#[[WIN]], #{{[^,]+}}, #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]} ins(%[[PADDED]], %[[TAPS]] : tensor<1x2x9x9x4xf32>, tensor<2x2x2xf32>) outs(%[[INIT]] : tensor<1x1x4x4x4xf32>)
// CHECK: arith.maximumf
// CHECK: return %[[Y]]
func.func @max_pool(%x: tensor<1x2x7x7x4xf32>) -> tensor<1x1x4x4x4xf32> {
  %y = vidnet.max_pool %x kernel [2, 2, 2] strides [2, 2, 2] padding [0, 1, 1] : tensor<1x2x7x7x4xf32> -> tensor<1x1x4x4x4xf32>
  return %y : tensor<1x1x4x4x4xf32>
}

// -----

// Tests the gradient: the first argmax of each window as an i32 tap (from -1, the "none yet"
// that the first tap inside the input replaces), then per input position a sum over the
// J = ceil(k / s) windows per axis that can cover it (here 1 along D, 2 along H and W: kernel
// 1x3x3, stride 1x2x2), reading dy and the taps at (i + p) floordiv s + j, both padded by J - 1
// before and to the last such window after (dy by 0, the taps by -1). No atomics, no scatter.
// CHECK-DAG: #[[READ:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 + d4, (d2 + 1) floordiv 2 + d5, (d3 + 1) floordiv 2 + d6, d7)>
// CHECK-LABEL: func.func @max_pool_backward(
// CHECK-SAME: %[[DY:[^:]+]]: tensor<1x2x4x4x3xf32>, %[[X:[^:]+]]: tensor<1x2x7x7x3xf32>)
// CHECK: tensor.pad %[[X]] low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0]
// The window's max, as the forward computes it, then the first tap inside the input equal to it.
// CHECK: %[[MAX:[^ ]+]] = linalg.generic {{.*}} outs({{.*}} : tensor<1x2x4x4x3xf32>)
// CHECK: arith.maximumf
// CHECK: %[[NONE:[^ ]+]] = arith.constant -1 : i32
// CHECK: linalg.fill ins(%[[NONE]] : i32) outs(%{{[^ ]+}} : tensor<1x2x4x4x3xi32>)
// CHECK: %[[ARGMAX:[^ ]+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]} ins({{.*}}, %[[MAX]] : {{.*}}) outs({{.*}} : tensor<1x2x4x4x3xi32>)
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpf uno
// CHECK: %[[DYP:[^ ]+]] = tensor.pad %[[DY]] low[0, 0, 1, 1, 0] high[0, 0, 0, 0, 0]
// CHECK: } : tensor<1x2x4x4x3xf32> to tensor<1x2x5x5x3xf32>
// CHECK: %[[TAPSP:[^ ]+]] = tensor.pad %[[ARGMAX]] low[0, 0, 1, 1, 0] high[0, 0, 0, 0, 0]
// CHECK: } : tensor<1x2x4x4x3xi32> to tensor<1x2x5x5x3xi32>
// CHECK: %[[WINDOWS:[^ ]+]] = tensor.empty() : tensor<1x2x2xf32>
// CHECK: %[[DX:[^ ]+]] = linalg.generic {indexing_maps = [#[[READ]], #[[READ]], #{{[^,]+}}, #{{[^]]+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]} ins(%[[DYP]], %[[TAPSP]], %[[WINDOWS]] : tensor<1x2x5x5x3xf32>, tensor<1x2x5x5x3xi32>, tensor<1x2x2xf32>) outs(%{{[^ ]+}} : tensor<1x2x7x7x3xf32>)
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: return %[[DX]]
func.func @max_pool_backward(%dy: tensor<1x2x4x4x3xf32>, %x: tensor<1x2x7x7x3xf32>) -> tensor<1x2x7x7x3xf32> {
  %dx = vidnet.max_pool_backward %dy, %x kernel [1, 3, 3] strides [1, 2, 2] padding [0, 1, 1]
      : (tensor<1x2x4x4x3xf32>, tensor<1x2x7x7x3xf32>) -> tensor<1x2x7x7x3xf32>
  return %dx : tensor<1x2x7x7x3xf32>
}
