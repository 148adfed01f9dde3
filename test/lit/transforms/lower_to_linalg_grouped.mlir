// RUN: vidnet-opt --split-input-file --vidnet-lower-to-linalg %s | FileCheck %s --implicit-check-not='= vidnet.'
// Tests the linalg structure vidnet-lower-to-linalg gives grouped convs (groups > 1) and their
// gradients: one linalg.generic over channels split into (group, channel in group), PyTorch's
// grouping. Numerical checks of the same lowerings: test/lit/numerics/lowering_numerics.test.

// Tests that a grouped conv (groups 2, C 8 -> F 6) splits the padded input's channels into
// 2 x 4 and the filter's F into 2 x 3, sums over the taps and the group's 4 input channels
// (the last loops) and joins the result's 2 x 3 channels back into 6.
// CHECK: #[[X:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1 * 2 + d6, d2 * 2 + d7, d3 * 2 + d8, d4, d9)>
// CHECK: #[[W:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d6, d7, d8, d9, d4, d5)>
// CHECK: #[[Y:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @grouped(
// CHECK-SAME: %[[IN:[^:]+]]: tensor<1x4x8x8x8xf32>, %[[F:[^:]+]]: tensor<3x3x3x4x6xf32>)
// CHECK: %[[PAD:[^ ]+]] = tensor.pad %[[IN]] low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0]
// CHECK: %[[XS:[^ ]+]] = tensor.expand_shape %[[PAD]] {{\[\[}}0], [1], [2], [3], [4, 5]] output_shape [1, 6, 10, 10, 2, 4]
// CHECK: %[[WS:[^ ]+]] = tensor.expand_shape %[[F]] {{\[\[}}0], [1], [2], [3], [4, 5]] output_shape [3, 3, 3, 4, 2, 3]
// CHECK: %[[INIT:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<1x2x4x4x2x3xf32>)
// CHECK: %[[SUM:[^ ]+]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]} ins(%[[XS]], %[[WS]] : {{.*}}) outs(%[[INIT]] : tensor<1x2x4x4x2x3xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[OUT:[^ ]+]] = tensor.collapse_shape %[[SUM]] {{\[\[}}0], [1], [2], [3], [4, 5]] : tensor<1x2x4x4x2x3xf32> into tensor<1x2x4x4x6xf32>
// CHECK: return %[[OUT]]
func.func @grouped(%x: tensor<1x4x8x8x8xf32>, %w: tensor<3x3x3x4x6xf32>) -> tensor<1x2x4x4x6xf32> {
  %y = vidnet.conv %x, %w strides [2, 2, 2] padding [1, 1, 1] groups 2
      : tensor<1x4x8x8x8xf32>, tensor<3x3x3x4x6xf32> -> tensor<1x2x4x4x6xf32>
  return %y : tensor<1x2x4x4x6xf32>
}

// -----

// Tests that a depthwise conv (groups = C = F = 16) puts the channel (the group, d9) innermost,
// after the taps (d4-d6, reductions) and the unit channel-in-group and multiplier loops, so that
// every operand is read and written along contiguous channels.
// CHECK: #[[X:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1 + d4, d2 + d5, d3 + d6, d9, d7)>
// CHECK: #[[W:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d4, d5, d6, d7, d9, d8)>
// CHECK: #[[Y:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d2, d3, d9, d8)>
// CHECK-LABEL: func.func @depthwise(
// CHECK: tensor.expand_shape %{{[^ ]+}} {{\[\[}}0], [1], [2], [3], [4, 5]] output_shape [1, 6, 10, 10, 16, 1]
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction", "parallel", "parallel"]}
// CHECK-SAME: outs(%{{[^ ]+}} : tensor<1x4x8x8x16x1xf32>)
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x4x8x8x16x1xf32> into tensor<1x4x8x8x16xf32>
func.func @depthwise(%x: tensor<1x4x8x8x16xf32>, %w: tensor<3x3x3x1x16xf32>) -> tensor<1x4x8x8x16xf32> {
  %y = vidnet.conv %x, %w strides [1, 1, 1] padding [1, 1, 1] groups 16
      : tensor<1x4x8x8x16xf32>, tensor<3x3x3x1x16xf32> -> tensor<1x4x8x8x16xf32>
  return %y : tensor<1x4x8x8x16xf32>
}

// -----

// Tests a grouped conv's input gradient: dy (2 x 4 x 4) spread with stride 2 into zeros at
// offset K - 1 - p = 1 (extent 8 + 3 - 1 = 10), the filter's taps flipped by a copy, then a
// stride-1 correlation of the two, tap k reading position i + k, with the filter's C/groups = 4
// channels as the result's channels in a group and its F/groups = 3 summed.
// CHECK: #[[FLIP:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (-d0 + 2, -d1 + 2, -d2 + 2, d3, d4)>
// CHECK: #[[DY:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1 + d6, d2 + d7, d3 + d8, d4, d9)>
// CHECK: #[[W:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d6, d7, d8, d5, d4, d9)>
// CHECK: #[[DX:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @grouped_data_grad(
// CHECK-SAME: %[[GRAD:[^:]+]]: tensor<1x2x4x4x6xf32>, %[[F:[^:]+]]: tensor<3x3x3x4x6xf32>)
// CHECK: %[[ZEROS:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<1x6x10x10x6xf32>)
// CHECK: %[[SPREAD:[^ ]+]] = tensor.insert_slice %[[GRAD]] into %[[ZEROS]][0, 1, 1, 1, 0] [1, 2, 4, 4, 6] [1, 2, 2, 2, 1]
// CHECK: %[[FLIPPED:[^ ]+]] = linalg.generic {indexing_maps = [#[[FLIP]], #{{[^]]+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[F]] : tensor<3x3x3x4x6xf32>)
// CHECK: %[[WS:[^ ]+]] = tensor.expand_shape %[[FLIPPED]] {{\[\[}}0], [1], [2], [3], [4, 5]] output_shape [3, 3, 3, 4, 2, 3]
// CHECK: %[[DYS:[^ ]+]] = tensor.expand_shape %[[SPREAD]] {{\[\[}}0], [1], [2], [3], [4, 5]] output_shape [1, 6, 10, 10, 2, 3]
// CHECK: linalg.generic {indexing_maps = [#[[DY]], #[[W]], #[[DX]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]} ins(%[[DYS]], %[[WS]] : {{.*}}) outs(%{{[^ ]+}} : tensor<1x4x8x8x2x4xf32>)
// CHECK: tensor.collapse_shape {{.*}} into tensor<1x4x8x8x8xf32>
func.func @grouped_data_grad(%dy: tensor<1x2x4x4x6xf32>, %w: tensor<3x3x3x4x6xf32>) -> tensor<1x4x8x8x8xf32> {
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 2
      : tensor<1x2x4x4x6xf32>, tensor<3x3x3x4x6xf32> -> tensor<1x4x8x8x8xf32>
  return %dx : tensor<1x4x8x8x8xf32>
}

// -----

// Tests that a padding wider than K - 1 (1 > 0 along D) gives the spread dy a margin of 1 there
// (dy[o] sits at o + K - 1 - p + 1 = o, tap k reads position i + k + 1), and that the depthwise
// input gradient, too, has the channel (d9) innermost.
// CHECK: #[[DY:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1 + d4 + 1, d2 + d5, d3 + d6, d9, d8)>
// CHECK: #[[DX:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d2, d3, d9, d7)>
// CHECK-LABEL: func.func @depthwise_data_grad_margin(
// CHECK: tensor.insert_slice %{{[^ ]+}} into %{{[^[]+}}[0, 0, 1, 1, 0] [1, 6, 4, 4, 8] [1, 1, 1, 1, 1] : tensor<1x6x4x4x8xf32> into tensor<1x6x6x6x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[DY]], #{{[^,]+}}, #[[DX]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction", "parallel"]}
func.func @depthwise_data_grad_margin(%dy: tensor<1x6x4x4x8xf32>, %w: tensor<1x3x3x1x8xf32>) -> tensor<1x4x4x4x8xf32> {
  %dx = vidnet.conv_backward_data %dy, %w strides [1, 1, 1] padding [1, 1, 1] groups 8
      : tensor<1x6x4x4x8xf32>, tensor<1x3x3x1x8xf32> -> tensor<1x4x4x4x8xf32>
  return %dx : tensor<1x4x4x4x8xf32>
}

// -----

// Tests a depthwise filter gradient: the taps (d0-d2) outermost and parallel, the sum over the
// batch and output positions (d3-d6) inside them, the channel (d9) innermost.
// CHECK: #[[X:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d3, d4 * 2 + d0, d5 * 2 + d1, d6 * 2 + d2, d9, d7)>
// CHECK: #[[DY:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d3, d4, d5, d6, d9, d8)>
// CHECK: #[[DW:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d2, d7, d9, d8)>
// CHECK-LABEL: func.func @depthwise_filter_grad(
// CHECK: tensor.pad
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[DY]], #[[DW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction", "parallel", "parallel", "parallel"]}
// CHECK-SAME: outs(%{{[^ ]+}} : tensor<3x3x3x1x16x1xf32>)
// CHECK: tensor.collapse_shape {{.*}} into tensor<3x3x3x1x16xf32>
func.func @depthwise_filter_grad(%x: tensor<2x4x8x8x16xf32>, %dy: tensor<2x2x4x4x16xf32>) -> tensor<3x3x3x1x16xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 16
      : tensor<2x4x8x8x16xf32>, tensor<2x2x4x4x16xf32> -> tensor<3x3x3x1x16xf32>
  return %dw : tensor<3x3x3x1x16xf32>
}
