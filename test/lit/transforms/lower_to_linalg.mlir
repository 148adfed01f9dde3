// RUN: vidnet-opt --split-input-file --verify-diagnostics --vidnet-lower-to-linalg %s | FileCheck %s
// Numerical checks of the same lowering: test/lit/numerics/lowering_numerics.test.

// Tests that a padded, strided conv becomes tensor.pad + linalg.conv_3d_ndhwc_dhwcf into a
// zero-filled init, with the strides carried over.
// CHECK-LABEL: func.func @conv
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 1, 3, 3, 0] high[0, 1, 3, 3, 0]
// CHECK: tensor.yield %[[ZERO]]
// CHECK: } : tensor<2x16x112x112x3xf32> to tensor<2x18x118x118x3xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x16x56x56x64xf32>)
// CHECK: linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<[1, 2, 2]> : tensor<3xi64>} ins(%[[PAD]], %{{.*}} : tensor<2x18x118x118x3xf32>, tensor<3x7x7x3x64xf32>) outs(%[[INIT]] : tensor<2x16x56x56x64xf32>)
// CHECK-NOT: vidnet.
func.func @conv(%x: tensor<2x16x112x112x3xf32>, %w: tensor<3x7x7x3x64xf32>) -> tensor<2x16x56x56x64xf32> {
  %y = vidnet.conv %x, %w strides [1, 2, 2] padding [1, 3, 3] groups 1
      : tensor<2x16x112x112x3xf32>, tensor<3x7x7x3x64xf32> -> tensor<2x16x56x56x64xf32>
  return %y : tensor<2x16x56x56x64xf32>
}

// -----

// Tests that an unpadded conv needs no tensor.pad.
// CHECK-LABEL: func.func @shortcut
// CHECK-NOT: tensor.pad
// CHECK: linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<2> : tensor<3xi64>}
func.func @shortcut(%x: tensor<1x8x8x8x64xf32>, %w: tensor<1x1x1x64x128xf32>) -> tensor<1x4x4x4x128xf32> {
  %y = vidnet.conv %x, %w strides [2, 2, 2] padding [0, 0, 0] groups 1
      : tensor<1x8x8x8x64xf32>, tensor<1x1x1x64x128xf32> -> tensor<1x4x4x4x128xf32>
  return %y : tensor<1x4x4x4x128xf32>
}

// -----

// Tests that dense broadcasts the bias into the init and lets linalg.matmul accumulate.
// CHECK-LABEL: func.func @dense
// CHECK: %[[B:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : tensor<400xf32>) outs(%{{.*}} : tensor<2x400xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x512xf32>, tensor<512x400xf32>) outs(%[[B]] : tensor<2x400xf32>)
func.func @dense(%x: tensor<2x512xf32>, %w: tensor<512x400xf32>, %b: tensor<400xf32>) -> tensor<2x400xf32> {
  %y = vidnet.dense %x, %w, %b : (tensor<2x512xf32>, tensor<512x400xf32>, tensor<400xf32>) -> tensor<2x400xf32>
  return %y : tensor<2x400xf32>
}

// -----

// Tests that BN is a per-channel f64 scale, gamma / sqrt(var + eps), then one elementwise
// generic (x - mean) * scale + beta in f64, rounded once to f32; the ReLU follows.
// CHECK-LABEL: func.func @bn_relu
// CHECK: %[[SCALE:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%{{.*}}, %{{.*}} : tensor<8xf32>, tensor<8xf32>) outs(%{{.*}} : tensor<8xf64>)
// CHECK: math.sqrt %{{.*}} : f64
// CHECK-NEXT: arith.divf %{{.*}} : f64
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}}, %[[SCALE]], %{{.*}} : tensor<1x2x4x4x8xf32>, tensor<8xf32>, tensor<8xf64>, tensor<8xf32>)
// CHECK: arith.subf %{{.*}} : f64
// CHECK: arith.mulf %{{.*}} : f64
// CHECK: arith.addf %{{.*}} : f64
// CHECK-NEXT: arith.truncf %{{.*}} : f64 to f32
// CHECK: linalg.generic
// CHECK: arith.maximumf
func.func @bn_relu(%x: tensor<1x2x4x4x8xf32>, %g: tensor<8xf32>) -> tensor<1x2x4x4x8xf32> {
  %n = vidnet.batch_norm %x, %g, %g, %g, %g epsilon 1.0e-05 : tensor<1x2x4x4x8xf32>, tensor<8xf32>
  %r = vidnet.relu %n : tensor<1x2x4x4x8xf32>
  return %r : tensor<1x2x4x4x8xf32>
}

// -----

// Tests that fold_time moves frames next to channels before collapsing (frame-major channels).
// CHECK-LABEL: func.func @fold
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x8x4x4x3xf32>) outs(%{{.*}} : tensor<2x4x4x8x3xf32>) permutation = [0, 2, 3, 1, 4]
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2], [3, 4]] : tensor<2x4x4x8x3xf32> into tensor<2x4x4x24xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 1, 4, 4, 24]
func.func @fold(%x: tensor<2x8x4x4x3xf32>) -> tensor<2x1x4x4x24xf32> {
  %y = vidnet.fold_time %x : tensor<2x8x4x4x3xf32> -> tensor<2x1x4x4x24xf32>
  return %y : tensor<2x1x4x4x24xf32>
}

// -----

// Tests that (2+1)D convs must be decomposed first.
func.func @undecomposed(%x: tensor<1x4x8x8x3xf32>, %ws: tensor<1x3x3x3x4xf32>, %g: tensor<4xf32>,
                        %wt: tensor<3x1x1x4x8xf32>) -> tensor<1x4x8x8x8xf32> {
  // expected-error @+2 {{run vidnet-decompose-2plus1d before lowering to linalg}}
  // expected-error @+1 {{failed to legalize operation 'vidnet.conv2plus1d' that was explicitly marked illegal}}
  %y = vidnet.conv2plus1d %x, %ws, %g, %g, %g, %g, %wt mid 4 strides [1, 1, 1] padding [1, 1, 1]
      epsilon 1.0e-05 : (tensor<1x4x8x8x3xf32>, tensor<1x3x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>,
      tensor<4xf32>, tensor<4xf32>, tensor<3x1x1x4x8xf32>) -> tensor<1x4x8x8x8xf32>
  return %y : tensor<1x4x8x8x8xf32>
}

// -----

// Tests that the training BN's statistics come from one pass over x: f64 sums of x and of its
// exact f64 squares, one chain per channel over all 512 positions each; the mean is the first
// scaled by 1/512 in f64 and rounded once, the variance E[x^2] - E[x]^2 in f64 (not below 0),
// rounded once.
// CHECK-LABEL: func.func @bn_train(
// CHECK: %[[SUM:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]} ins(%[[X:[^ ]+]] : tensor<2x4x8x8x16xf32>) outs(%{{[^ ]+}} : tensor<16xf64>)
// CHECK: arith.extf
// CHECK-NEXT: arith.addf
// CHECK: %[[SQUARES:[^ ]+]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<2x4x8x8x16xf32>) outs(%{{[^ ]+}} : tensor<16xf64>)
// CHECK: %[[E:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[E]], %[[E]] : f64
// CHECK-NEXT: arith.addf %[[SQ]]
// CHECK: %[[MEAN:[^ ]+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<16xf64>) outs(%{{[^ ]+}} : tensor<16xf32>)
// CHECK: arith.constant 0.001953125 : f64
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: %[[VAR:[^ ]+]] = linalg.generic {{.*}} ins(%[[SUM]], %[[SQUARES]] : tensor<16xf64>, tensor<16xf64>) outs(%{{[^ ]+}} : tensor<16xf32>)
// CHECK: %[[M:.*]] = arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: %[[M2:.*]] = arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: %[[MM:.*]] = arith.mulf %[[M]], %[[M]] : f64
// CHECK: %[[D:.*]] = arith.subf %[[M2]], %[[MM]] : f64
// CHECK: %[[V:.*]] = arith.maximumf %[[D]], %{{.*}} : f64
// CHECK: arith.truncf %[[V]] : f64 to f32
// CHECK: return %{{.*}}, %[[MEAN]], %[[VAR]]
func.func @bn_train(%x: tensor<2x4x8x8x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>)
    -> (tensor<2x4x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>) {
  %y, %m, %v = vidnet.batch_norm_train %x, %g, %b epsilon 1.0e-05 : tensor<2x4x8x8x16xf32>, tensor<16xf32>
  return %y, %m, %v : tensor<2x4x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>
}
