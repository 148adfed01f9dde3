// RUN: vidnet-opt --split-input-file --verify-diagnostics --vidnet-lower-to-linalg %s | FileCheck %s --implicit-check-not='= vidnet.'
// Tests the linalg structure vidnet-lower-to-linalg gives each backward and optimizer op.
// The forward ops: lower_to_linalg.mlir; numerical checks of the same lowerings:
// test/lit/numerics/lowering_numerics.test.
// --implicit-check-not='= vidnet.' checks that no vidnet op is left anywhere in the output (the
// vidnet.conv_role attributes on gradient convs are not ops).

// Tests that the input gradient of a stride-1 conv is one phase: the stride-1 conv of dy,
// zero-padded by K - 1 - p (a tensor.pad to extent I + K - 1, which the CPU conv schedule
// reads to skip taps over zeros), with the filter flipped in D, H, W and its C and F swapped.
// CHECK: #[[FLIP:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (-d0 + 2, -d1 + 2, -d2 + 2, d4, d3)>
// CHECK-LABEL: func.func @bwd_data_stride1(
// CHECK-SAME: %[[DY:[^:]+]]: tensor<1x4x4x4x8xf32>, %[[W:[^:]+]]: tensor<3x3x3x4x8xf32>)
// CHECK: %[[SPREAD:[^ ]+]] = tensor.pad %[[DY]] low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0]
// CHECK: } : tensor<1x4x4x4x8xf32> to tensor<1x6x6x6x8xf32>
// CHECK: %[[FLIPPED:[^ ]+]] = linalg.generic {indexing_maps = [#[[FLIP]], #{{[^]]+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[W]] : tensor<3x3x3x4x8xf32>) outs(%{{[^ ]+}} : tensor<3x3x3x8x4xf32>)
// CHECK: %[[INIT:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<1x4x4x4x4xf32>)
// CHECK: %[[DX:[^ ]+]] = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>, vidnet.conv_role = "conv data gradient", vidnet.conv_shape = "3x3x3 4->8 /1x1x1, out 1x4x4x4"} ins(%[[SPREAD]], %[[FLIPPED]] : tensor<1x6x6x6x8xf32>, tensor<3x3x3x8x4xf32>) outs(%[[INIT]] : tensor<1x4x4x4x4xf32>)
// CHECK-NOT: tensor.insert_slice
// CHECK: return %[[DX]] : tensor<1x4x4x4x4xf32>
func.func @bwd_data_stride1(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x4x4x4x4xf32> {
  %dx = vidnet.conv_backward_data %dy, %w strides [1, 1, 1] padding [1, 1, 1] groups 1
      : tensor<1x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x4x4x4x4xf32>
  return %dx : tensor<1x4x4x4x4xf32>
}

// -----

// Tests the strided path, one stride-1 conv per output phase and no zero insertion: strides
// [2, 1, 2], padding [1, 0, 0], kernel 3x2x1, dx 8x5x7. D has phases r = 0 (tap 1 alone, J = 1)
// and r = 1 (taps 2 and 0, J = 2), 4 positions each; H is stride 1 (both taps, dy shifted by
// K - 1 - p = 1); W's phase r = 1 is reached by no tap (K = 1 < s), so it stays 0 and only 2 of
// the 4 phases are computed. Each phase's result goes into dx with the strides at its offset.
// CHECK-DAG: #[[SUB0:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0 * -2 + 1, -d1 + 1, d2 * -2, d4, d3)>
// CHECK-DAG: #[[SUB1:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0 * -2 + 2, -d1 + 1, d2 * -2, d4, d3)>
// CHECK-LABEL: func.func @bwd_data_stride2(
// CHECK-SAME: %[[DY:[^:]+]]: tensor<1x4x4x4x8xf32>, %[[W:[^:]+]]: tensor<3x2x1x4x8xf32>)
// CHECK: %[[IN0:[^ ]+]] = tensor.pad %[[DY]] low[0, 0, 1, 0, 0] high[0, 0, 1, 0, 0]
// CHECK: } : tensor<1x4x4x4x8xf32> to tensor<1x4x6x4x8xf32>
// CHECK: %[[TAPS0:[^ ]+]] = linalg.generic {indexing_maps = [#[[SUB0]], {{.*}} ins(%[[W]] : tensor<3x2x1x4x8xf32>) outs(%{{[^ ]+}} : tensor<1x2x1x8x4xf32>)
// CHECK: %[[P0:[^ ]+]] = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>, vidnet.conv_role = "conv data gradient", vidnet.conv_shape = "3x2x1 4->8 /2x1x2, out 1x4x4x4"} ins(%[[IN0]], %[[TAPS0]] : tensor<1x4x6x4x8xf32>, tensor<1x2x1x8x4xf32>) outs(%{{[^ ]+}} : tensor<1x4x5x4x4xf32>)
// CHECK: %[[ZERO_DX:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<1x8x5x7x4xf32>)
// CHECK: %[[DX0:[^ ]+]] = tensor.insert_slice %[[P0]] into %[[ZERO_DX]][0, 0, 0, 0, 0] [1, 4, 5, 4, 4] [1, 2, 1, 2, 1]
// CHECK: %[[IN1:[^ ]+]] = tensor.pad %[[DY]] low[0, 0, 1, 0, 0] high[0, 1, 1, 0, 0]
// CHECK: } : tensor<1x4x4x4x8xf32> to tensor<1x5x6x4x8xf32>
// CHECK: %[[TAPS1:[^ ]+]] = linalg.generic {indexing_maps = [#[[SUB1]], {{.*}} outs(%{{[^ ]+}} : tensor<2x2x1x8x4xf32>)
// CHECK: %[[P1:[^ ]+]] = linalg.conv_3d_ndhwc_dhwcf {{.*}} ins(%[[IN1]], %[[TAPS1]] : tensor<1x5x6x4x8xf32>, tensor<2x2x1x8x4xf32>) outs(%{{[^ ]+}} : tensor<1x4x5x4x4xf32>)
// CHECK: %[[DX:[^ ]+]] = tensor.insert_slice %[[P1]] into %[[DX0]][0, 1, 0, 0, 0] [1, 4, 5, 4, 4] [1, 2, 1, 2, 1]
// CHECK-NOT: linalg.conv_3d_ndhwc_dhwcf
// CHECK: return %[[DX]] : tensor<1x8x5x7x4xf32>
func.func @bwd_data_stride2(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x2x1x4x8xf32>) -> tensor<1x8x5x7x4xf32> {
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 1, 2] padding [1, 0, 0] groups 1
      : tensor<1x4x4x4x8xf32>, tensor<3x2x1x4x8xf32> -> tensor<1x8x5x7x4xf32>
  return %dx : tensor<1x8x5x7x4xf32>
}

// -----

// Tests that padding wider than K - 1 crops dy instead of padding it: kernel 1 with padding 1
// in D reads dy[1..4] for dx[0..3] (an extract_slice, no padding).
// CHECK-LABEL: func.func @bwd_data_wide_padding(
// CHECK-SAME: %[[DY:[^:]+]]: tensor<1x6x4x4x8xf32>
// CHECK: %[[CROP:[^ ]+]] = tensor.extract_slice %[[DY]][0, 1, 0, 0, 0] [1, 4, 4, 4, 8] [1, 1, 1, 1, 1]
// CHECK-NOT: tensor.pad
// CHECK: linalg.conv_3d_ndhwc_dhwcf {{.*}} ins(%[[CROP]],
// CHECK-SAME: -> tensor<1x4x4x4x4xf32>
func.func @bwd_data_wide_padding(%dy: tensor<1x6x4x4x8xf32>, %w: tensor<1x1x1x4x8xf32>) -> tensor<1x4x4x4x4xf32> {
  %dx = vidnet.conv_backward_data %dy, %w strides [1, 1, 1] padding [1, 0, 0] groups 1
      : tensor<1x6x4x4x8xf32>, tensor<1x1x1x4x8xf32> -> tensor<1x4x4x4x4xf32>
  return %dx : tensor<1x4x4x4x4xf32>
}

// -----

// Tests that the filter gradient pads the input once, flattens dy to P x F (P = N*OD*OH*OW = 64)
// and, in an scf.for nest over the taps (3 x 2 x 3), takes the tap's strided slice of the padded
// input, transposes it to C x P and multiplies it with dy as a 1x1x1 conv, inserting the C x F
// result at the tap.
// CHECK-LABEL: func.func @bwd_filter(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x8x8x8x4xf32>, %[[DY:[^:]+]]: tensor<1x4x4x4x8xf32>)
// CHECK: %[[PAD:[^ ]+]] = tensor.pad %[[X]] low[0, 1, 0, 1, 0] high[0, 1, 0, 1, 0]
// CHECK: } : tensor<1x8x8x8x4xf32> to tensor<1x10x8x10x4xf32>
// CHECK: %[[FLAT:[^ ]+]] = tensor.collapse_shape %[[DY]] {{\[\[}}0, 1, 2, 3], [4]] : tensor<1x4x4x4x8xf32> into tensor<64x8xf32>
// CHECK: %[[DYF:[^ ]+]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1, 2, 3], [4]] output_shape [1, 1, 1, 64, 8] : tensor<64x8xf32> into tensor<1x1x1x64x8xf32>
// CHECK: %[[DW:[^ ]+]] = scf.for %[[KD:[^ ]+]] = %{{[^ ]+}} to %c3{{[_0-9]*}} step %{{[^ ]+}} iter_args(%{{[^ ]+}} = %{{[^ ]+}}) -> (tensor<3x2x3x4x8xf32>) {
// CHECK: scf.for %[[KH:[^ ]+]] = %{{[^ ]+}} to %c2{{[_0-9]*}} step %{{[^ ]+}} iter_args(%{{[^ ]+}} = %{{[^ ]+}}) -> (tensor<3x2x3x4x8xf32>) {
// CHECK: scf.for %[[KW:[^ ]+]] = %{{[^ ]+}} to %c3{{[_0-9]*}} step %{{[^ ]+}} iter_args(%[[ACC:[^ ]+]] = %{{[^ ]+}}) -> (tensor<3x2x3x4x8xf32>) {
// CHECK: %[[SLICE:[^ ]+]] = tensor.extract_slice %[[PAD]][0, %[[KD]], %[[KH]], %[[KW]], 0] [1, 4, 4, 4, 4] [1, 2, 2, 2, 1] : tensor<1x10x8x10x4xf32> to tensor<1x4x4x4x4xf32>
// CHECK: %[[XF:[^ ]+]] = tensor.collapse_shape %[[SLICE]] {{\[\[}}0, 1, 2, 3], [4]] : tensor<1x4x4x4x4xf32> into tensor<64x4xf32>
// CHECK: %[[XT:[^ ]+]] = linalg.transpose ins(%[[XF]] : tensor<64x4xf32>) outs(%{{[^ ]+}} : tensor<4x64xf32>) permutation = [1, 0]
// CHECK: %[[LHS:[^ ]+]] = tensor.expand_shape %[[XT]] {{\[\[}}0, 1, 2, 3], [4]] output_shape [1, 1, 1, 4, 64]
// CHECK: %[[TAP:[^ ]+]] = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>, vidnet.conv_role = "conv filter gradient", vidnet.conv_shape = "3x2x3 4->8 /2x2x2, out 1x4x4x4"} ins(%[[LHS]], %[[DYF]] : tensor<1x1x1x4x64xf32>, tensor<1x1x1x64x8xf32>) outs(%{{[^ ]+}} : tensor<1x1x1x4x8xf32>)
// CHECK: %[[NEXT:[^ ]+]] = tensor.insert_slice %[[TAP]] into %[[ACC]][%[[KD]], %[[KH]], %[[KW]], 0, 0] [1, 1, 1, 4, 8] [1, 1, 1, 1, 1] : tensor<1x1x1x4x8xf32> into tensor<3x2x3x4x8xf32>
// CHECK: scf.yield %[[NEXT]] : tensor<3x2x3x4x8xf32>
// CHECK: return %[[DW]] : tensor<3x2x3x4x8xf32>
func.func @bwd_filter(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x2x3x4x8xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 0, 1] groups 1
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x2x3x4x8xf32>
  return %dw : tensor<3x2x3x4x8xf32>
}

// -----

// Tests that an unpadded filter gradient slices the input itself (no tensor.pad).
// CHECK-LABEL: func.func @bwd_filter_unpadded(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4x4x4x4xf32>
// CHECK-NOT: tensor.pad
// CHECK: tensor.extract_slice %[[X]][0, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, 0] [1, 4, 4, 4, 4] [1, 1, 1, 1, 1]
func.func @bwd_filter_unpadded(%x: tensor<1x4x4x4x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<1x1x1x4x8xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [0, 0, 0] groups 1
      : tensor<1x4x4x4x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<1x1x1x4x8xf32>
  return %dw : tensor<1x1x1x4x8xf32>
}

// -----

// Tests that the BN backward is rstd (elementwise over channels), two per-channel reductions
// (dbeta = sum dy, dgamma = sum dy * xhat: every dimension but the channel is a reduction, the
// sums accumulated in f64 and rounded once to f32) and one elementwise generic for dx that reads
// both sums, with 1/M = 1/36.
// CHECK-LABEL: func.func @bn_bwd(
// CHECK-SAME: %[[DY:[^:]+]]: tensor<2x2x3x3x4xf32>, %[[X:[^:]+]]: tensor<2x2x3x3x4xf32>, %[[M:[^:]+]]: tensor<4xf32>, %[[V:[^:]+]]: tensor<4xf32>, %[[G:[^:]+]]: tensor<4xf32>)
// CHECK: %[[RSTD:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[V]] : tensor<4xf32>) outs(%{{[^ ]+}} : tensor<4xf32>)
// CHECK: math.rsqrt
// CHECK: %[[DBS:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]} ins(%[[DY]] : tensor<2x2x3x3x4xf32>) outs(%{{[^ ]+}} : tensor<4xf64>)
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: %[[DB:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[DBS]] : tensor<4xf64>) outs(%{{[^ ]+}} : tensor<4xf32>)
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: %[[DGS:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]} ins(%[[DY]], %[[X]], %[[M]], %[[RSTD]] : {{.*}}) outs(%{{[^ ]+}} : tensor<4xf64>)
// CHECK: %[[DG:[^ ]+]] = linalg.generic {{.*}} ins(%[[DGS]] : tensor<4xf64>) outs(%{{[^ ]+}} : tensor<4xf32>)
// CHECK: arith.constant 0.027777778 : f32
// CHECK: %[[DX:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[DY]], %[[X]], {{.*}}%[[G]], %[[DB]], %[[DG]] : {{.*}}) outs(%{{[^ ]+}} : tensor<2x2x3x3x4xf32>)
// CHECK: return %[[DX]], %[[DG]], %[[DB]] : tensor<2x2x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>
func.func @bn_bwd(%dy: tensor<2x2x3x3x4xf32>, %x: tensor<2x2x3x3x4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>,
                  %g: tensor<4xf32>) -> (tensor<2x2x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %dx, %dg, %db = vidnet.batch_norm_train_backward %dy, %x, %m, %v, %g epsilon 1.0e-05 : tensor<2x2x3x3x4xf32>, tensor<4xf32>
  return %dx, %dg, %db : tensor<2x2x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that relu_backward is one elementwise select: dy where the ReLU's output is > 0, else 0.
// CHECK-LABEL: func.func @relu_bwd(
// CHECK-SAME: %[[DY:[^:]+]]: tensor<2x2x3x3x4xf32>, %[[Y:[^:]+]]: tensor<2x2x3x3x4xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[DY]], %[[Y]] : tensor<2x2x3x3x4xf32>, tensor<2x2x3x3x4xf32>)
// CHECK-NEXT: ^bb0(%[[DYV:[^:]+]]: f32, %[[YV:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK: %[[ZERO:[^ ]+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ON:[^ ]+]] = arith.cmpf ogt, %[[YV]], %[[ZERO]] : f32
// CHECK: %[[R:[^ ]+]] = arith.select %[[ON]], %[[DYV]], %[[ZERO]] : f32
// CHECK: linalg.yield %[[R]] : f32
func.func @relu_bwd(%dy: tensor<2x2x3x3x4xf32>, %y: tensor<2x2x3x3x4xf32>) -> tensor<2x2x3x3x4xf32> {
  %dx = vidnet.relu_backward %dy, %y : tensor<2x2x3x3x4xf32>
  return %dx : tensor<2x2x3x3x4xf32>
}

// -----

// Tests that global_avg_pool_backward broadcasts dy[n, c] / (D H W) = dy / 18 over N x D x H x W x C.
// CHECK: #[[NC:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4)>
// CHECK-LABEL: func.func @pool_bwd(
// CHECK: %[[SCALE:[^ ]+]] = arith.constant 0.055555556 : f32
// CHECK: linalg.generic {indexing_maps = [#[[NC]], #{{[^]]+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%{{[^ ]+}} : tensor<2x4xf32>) outs(%{{[^ ]+}} : tensor<2x2x3x3x4xf32>)
// CHECK: arith.mulf %{{[^,]+}}, %[[SCALE]] : f32
func.func @pool_bwd(%dy: tensor<2x4xf32>) -> tensor<2x2x3x3x4xf32> {
  %dx = vidnet.global_avg_pool_backward %dy : tensor<2x4xf32> -> tensor<2x2x3x3x4xf32>
  return %dx : tensor<2x2x3x3x4xf32>
}

// -----

// Tests that unfold_time is fold_time in reverse: drop the unit frame, split D*C frame-major into
// D x C, then move the frames back in front of H and W.
// CHECK-LABEL: func.func @unfold(
// CHECK: %[[C:[^ ]+]] = tensor.collapse_shape %{{[^ ]+}} {{\[\[}}0, 1], [2], [3], [4]] : tensor<2x1x4x4x24xf32> into tensor<2x4x4x24xf32>
// CHECK: %[[E:[^ ]+]] = tensor.expand_shape %[[C]] {{\[\[}}0], [1], [2], [3, 4]] output_shape [2, 4, 4, 8, 3] : tensor<2x4x4x24xf32> into tensor<2x4x4x8x3xf32>
// CHECK: %[[T:[^ ]+]] = linalg.transpose ins(%[[E]] : tensor<2x4x4x8x3xf32>) outs(%{{[^ ]+}} : tensor<2x8x4x4x3xf32>) permutation = [0, 3, 1, 2, 4]
// CHECK: return %[[T]] : tensor<2x8x4x4x3xf32>
func.func @unfold(%x: tensor<2x1x4x4x24xf32>) -> tensor<2x8x4x4x3xf32> {
  %y = vidnet.unfold_time %x : tensor<2x1x4x4x24xf32> -> tensor<2x8x4x4x3xf32>
  return %y : tensor<2x8x4x4x3xf32>
}

// -----

// Tests that dense_backward is three contractions into zero-filled inits:
// dx[n, c] = sum_k dy[n, k] w[c, k], dw[c, k] = sum_n x[n, c] dy[n, k], db[k] = sum_n dy[n, k].
// CHECK-DAG: #[[A:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[B:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[OUT:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[XT:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[DYT:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[NK:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[K:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @dense_bwd(
// CHECK-SAME: %[[DY:[^:]+]]: tensor<2x10xf32>, %[[X:[^:]+]]: tensor<2x16xf32>, %[[W:[^:]+]]: tensor<16x10xf32>)
// CHECK: %[[DXI:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<2x16xf32>)
// CHECK: %[[DX:[^ ]+]] = linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[DY]], %[[W]] : tensor<2x10xf32>, tensor<16x10xf32>) outs(%[[DXI]] : tensor<2x16xf32>)
// CHECK: %[[DWI:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<16x10xf32>)
// CHECK: %[[DW:[^ ]+]] = linalg.generic {indexing_maps = [#[[XT]], #[[DYT]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[DY]] : tensor<2x16xf32>, tensor<2x10xf32>) outs(%[[DWI]] : tensor<16x10xf32>)
// CHECK: %[[DBI:[^ ]+]] = linalg.fill ins(%{{[^ ]+}} : f32) outs(%{{[^ ]+}} : tensor<10xf32>)
// CHECK: %[[DB:[^ ]+]] = linalg.generic {indexing_maps = [#[[NK]], #[[K]]], iterator_types = ["reduction", "parallel"]} ins(%[[DY]] : tensor<2x10xf32>) outs(%[[DBI]] : tensor<10xf32>)
// CHECK: return %[[DX]], %[[DW]], %[[DB]] : tensor<2x16xf32>, tensor<16x10xf32>, tensor<10xf32>
func.func @dense_bwd(%dy: tensor<2x10xf32>, %x: tensor<2x16xf32>, %w: tensor<16x10xf32>)
    -> (tensor<2x16xf32>, tensor<16x10xf32>, tensor<10xf32>) {
  %dx, %dw, %db = vidnet.dense_backward %dy, %x, %w
      : (tensor<2x10xf32>, tensor<2x16xf32>, tensor<16x10xf32>) -> (tensor<2x16xf32>, tensor<16x10xf32>, tensor<10xf32>)
  return %dx, %dw, %db : tensor<2x16xf32>, tensor<16x10xf32>, tensor<10xf32>
}

// -----

// Tests that the cross-entropy gradient takes the row maximum (from -inf) and the sum of exp
// (row reductions), then one elementwise generic: exp(l - max) / sum, minus 1 at the label's
// column (linalg.index 1 compared to the label), times 1/N = 1/2.
// CHECK-LABEL: func.func @ce_bwd(
// CHECK-SAME: %[[L:[^:]+]]: tensor<2x10xf32>, %[[LAB:[^:]+]]: tensor<2xi64>)
// CHECK: %[[NEGINF:[^ ]+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MAXI:[^ ]+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{[^ ]+}} : tensor<2xf32>)
// CHECK: %[[MAX:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[L]] : tensor<2x10xf32>) outs(%[[MAXI]] : tensor<2xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[L]], %[[MAX]] : tensor<2x10xf32>, tensor<2xf32>) outs(%{{[^ ]+}} : tensor<2xf32>)
// CHECK: math.exp
// CHECK: %[[INVN:[^ ]+]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[G:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[L]], %[[MAX]], %[[SUM]], %[[LAB]] : tensor<2x10xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xi64>) outs(%{{[^ ]+}} : tensor<2x10xf32>)
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: %[[COL:[^ ]+]] = linalg.index 1 : index
// CHECK: %[[LABEL:[^ ]+]] = arith.index_cast %{{[^ ]+}} : i64 to index
// CHECK: %[[HIT:[^ ]+]] = arith.cmpi eq, %[[COL]], %[[LABEL]] : index
// CHECK: %[[SEL:[^ ]+]] = arith.select %[[HIT]], %{{[^,]+}}, %{{[^ ]+}} : f32
// CHECK: %[[R:[^ ]+]] = arith.mulf %[[SEL]], %[[INVN]] : f32
// CHECK: linalg.yield %[[R]] : f32
// CHECK: return %[[G]] : tensor<2x10xf32>
func.func @ce_bwd(%l: tensor<2x10xf32>, %lab: tensor<2xi64>) -> tensor<2x10xf32> {
  %dl = vidnet.softmax_cross_entropy_backward %l, %lab : (tensor<2x10xf32>, tensor<2xi64>) -> tensor<2x10xf32>
  return %dl : tensor<2x10xf32>
}

// -----

// Tests that sgd_update reads lr, momentum and weight decay from `hyper` and is ONE elementwise
// linalg.generic with two results (new parameter, new momentum buffer).
// CHECK-LABEL: func.func @sgd(
// CHECK-SAME: %[[P:[^:]+]]: tensor<3x3x3x4x8xf32>, %[[GR:[^:]+]]: tensor<3x3x3x4x8xf32>, %[[BUF:[^:]+]]: tensor<3x3x3x4x8xf32>, %[[H:[^:]+]]: tensor<3xf32>)
// CHECK-COUNT-3: tensor.extract %[[H]][%{{[^]]+}}] : tensor<3xf32>
// CHECK: %[[U:[^ ]+]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[P]], %[[GR]], %[[BUF]] : tensor<3x3x3x4x8xf32>, tensor<3x3x3x4x8xf32>, tensor<3x3x3x4x8xf32>) outs(%{{[^,]+}}, %{{[^ ]+}} : tensor<3x3x3x4x8xf32>, tensor<3x3x3x4x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: linalg.yield %{{[^,]+}}, %{{[^ ]+}} : f32, f32
// CHECK-NEXT: } -> (tensor<3x3x3x4x8xf32>, tensor<3x3x3x4x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return %[[U]]#0, %[[U]]#1 : tensor<3x3x3x4x8xf32>, tensor<3x3x3x4x8xf32>
func.func @sgd(%p: tensor<3x3x3x4x8xf32>, %g: tensor<3x3x3x4x8xf32>, %b: tensor<3x3x3x4x8xf32>, %h: tensor<3xf32>)
    -> (tensor<3x3x3x4x8xf32>, tensor<3x3x3x4x8xf32>) {
  %np, %nb = vidnet.sgd_update %p, %g, %b, %h : tensor<3x3x3x4x8xf32>, tensor<3xf32>
  return %np, %nb : tensor<3x3x3x4x8xf32>, tensor<3x3x3x4x8xf32>
}

// -----

// Tests that running_stats_update blends each statistic in its own elementwise generic with
// 1 - momentum = 0.9 and momentum = 0.1, the variance's batch value scaled by n / (n - 1) = 5/4.
// CHECK-LABEL: func.func @stats(
// CHECK-SAME: %[[M:[^:]+]]: tensor<4xf32>, %[[V:[^:]+]]: tensor<4xf32>, %[[BM:[^:]+]]: tensor<4xf32>, %[[BV:[^:]+]]: tensor<4xf32>)
// CHECK-DAG: %[[KEEP:[^ ]+]] = arith.constant 0.899999976 : f32
// CHECK-DAG: %[[TAKE:[^ ]+]] = arith.constant 1.000000e-01 : f32
// CHECK-DAG: %[[UNBIAS:[^ ]+]] = arith.constant 1.250000e+00 : f32
// CHECK: %[[NM:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[M]], %[[BM]] : tensor<4xf32>, tensor<4xf32>)
// CHECK-NOT: %[[UNBIAS]]
// CHECK: linalg.yield
// CHECK: %[[NV:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[V]], %[[BV]] : tensor<4xf32>, tensor<4xf32>)
// CHECK-NEXT: ^bb0(%{{[^:]+}}: f32, %[[BVV:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK: arith.mulf %[[BVV]], %[[UNBIAS]] : f32
// CHECK: return %[[NM]], %[[NV]] : tensor<4xf32>, tensor<4xf32>
func.func @stats(%m: tensor<4xf32>, %v: tensor<4xf32>, %bm: tensor<4xf32>, %bv: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>) {
  %nm, %nv = vidnet.running_stats_update %m, %v, %bm, %bv momentum 0.1 count 5 : tensor<4xf32>
  return %nm, %nv : tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that a chain of backward ops (loss -> dense -> pool -> ReLU), each feeding the next, is
// lowered whole: every use is rewired to the linalg value.
// CHECK-LABEL: func.func @chain(
// CHECK: %[[DL:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins({{.*}}) outs(%{{[^ ]+}} : tensor<2x3xf32>)
// CHECK: %[[DX:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[DL]], {{.*}}) outs(%{{[^ ]+}} : tensor<2x4xf32>)
// CHECK: %[[DP:[^ ]+]] = linalg.generic {{.*}} ins(%[[DX]] : tensor<2x4xf32>) outs(%{{[^ ]+}} : tensor<2x1x2x2x4xf32>)
// CHECK: %[[DR:[^ ]+]] = linalg.generic {{.*}} ins(%[[DP]], %{{[^ ]+}} : tensor<2x1x2x2x4xf32>, tensor<2x1x2x2x4xf32>)
// CHECK: return %[[DR]]
func.func @chain(%l: tensor<2x3xf32>, %lab: tensor<2xi64>, %p: tensor<2x4xf32>, %w: tensor<4x3xf32>,
                 %y: tensor<2x1x2x2x4xf32>) -> tensor<2x1x2x2x4xf32> {
  %dl = vidnet.softmax_cross_entropy_backward %l, %lab : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %dx, %dw, %db = vidnet.dense_backward %dl, %p, %w
      : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<4x3xf32>) -> (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>)
  %dp = vidnet.global_avg_pool_backward %dx : tensor<2x4xf32> -> tensor<2x1x2x2x4xf32>
  %dr = vidnet.relu_backward %dp, %y : tensor<2x1x2x2x4xf32>
  return %dr : tensor<2x1x2x2x4xf32>
}
