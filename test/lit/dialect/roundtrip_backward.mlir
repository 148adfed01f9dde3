// RUN: vidnet-opt %s | vidnet-opt | FileCheck %s
// RUN: vidnet-opt --mlir-print-op-generic %s | vidnet-opt | FileCheck %s

// Tests that every backward and optimizer vidnet op prints and parses back to the same IR.
// Checked: operands in order, attributes and types (the forward ops are in roundtrip.mlir).

// CHECK-LABEL: func.func @conv_backward_data
// CHECK-SAME: (%[[DY:[^:]+]]: tensor<2x4x4x4x16xf32>, %[[W:[^:]+]]: tensor<3x3x3x8x16xf32>)
// CHECK: vidnet.conv_backward_data %[[DY]], %[[W]] strides [2, 2, 2] padding [1, 1, 1] groups 1 : tensor<2x4x4x4x16xf32>, tensor<3x3x3x8x16xf32> -> tensor<2x8x8x8x8xf32>
// CHECK: vidnet.conv_backward_data %[[DY]], %[[W]] strides [1, 2, 2] padding [0, 1, 1] groups 1 : tensor<2x4x4x4x16xf32>, tensor<3x3x3x8x16xf32> -> tensor<2x6x8x8x8xf32>
func.func @conv_backward_data(%dy: tensor<2x4x4x4x16xf32>, %w: tensor<3x3x3x8x16xf32>)
    -> (tensor<2x8x8x8x8xf32>, tensor<2x6x8x8x8xf32>) {
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<2x4x4x4x16xf32>, tensor<3x3x3x8x16xf32> -> tensor<2x8x8x8x8xf32>
  %dx2 = vidnet.conv_backward_data %dy, %w strides [1, 2, 2] padding [0, 1, 1] groups 1
      : tensor<2x4x4x4x16xf32>, tensor<3x3x3x8x16xf32> -> tensor<2x6x8x8x8xf32>
  return %dx, %dx2 : tensor<2x8x8x8x8xf32>, tensor<2x6x8x8x8xf32>
}

// CHECK-LABEL: func.func @conv_backward_filter
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x8x8x8x8xf32>, %[[DY:[^:]+]]: tensor<2x4x4x4x16xf32>)
// CHECK: vidnet.conv_backward_filter %[[X]], %[[DY]] strides [2, 2, 2] padding [1, 1, 1] groups 1 : tensor<2x8x8x8x8xf32>, tensor<2x4x4x4x16xf32> -> tensor<3x3x3x8x16xf32>
func.func @conv_backward_filter(%x: tensor<2x8x8x8x8xf32>, %dy: tensor<2x4x4x4x16xf32>) -> tensor<3x3x3x8x16xf32> {
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<2x8x8x8x8xf32>, tensor<2x4x4x4x16xf32> -> tensor<3x3x3x8x16xf32>
  return %dw : tensor<3x3x3x8x16xf32>
}

// CHECK-LABEL: func.func @grouped_conv_backward
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x8x8x8x8xf32>, %[[DY:[^:]+]]: tensor<2x8x8x8x8xf32>, %[[W:[^:]+]]: tensor<3x3x3x1x8xf32>)
// CHECK: vidnet.conv_backward_data %[[DY]], %[[W]] strides [1, 1, 1] padding [1, 1, 1] groups 8 : tensor<2x8x8x8x8xf32>, tensor<3x3x3x1x8xf32> -> tensor<2x8x8x8x8xf32>
// CHECK: vidnet.conv_backward_filter %[[X]], %[[DY]] strides [1, 1, 1] padding [1, 1, 1] groups 8 : tensor<2x8x8x8x8xf32>, tensor<2x8x8x8x8xf32> -> tensor<3x3x3x1x8xf32>
func.func @grouped_conv_backward(%x: tensor<2x8x8x8x8xf32>, %dy: tensor<2x8x8x8x8xf32>, %w: tensor<3x3x3x1x8xf32>)
    -> (tensor<2x8x8x8x8xf32>, tensor<3x3x3x1x8xf32>) {
  %dx = vidnet.conv_backward_data %dy, %w strides [1, 1, 1] padding [1, 1, 1] groups 8
      : tensor<2x8x8x8x8xf32>, tensor<3x3x3x1x8xf32> -> tensor<2x8x8x8x8xf32>
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [1, 1, 1] groups 8
      : tensor<2x8x8x8x8xf32>, tensor<2x8x8x8x8xf32> -> tensor<3x3x3x1x8xf32>
  return %dx, %dw : tensor<2x8x8x8x8xf32>, tensor<3x3x3x1x8xf32>
}

// CHECK-LABEL: func.func @batch_norm_train_backward
// CHECK-SAME: (%[[DY:[^:]+]]: tensor<2x4x4x4x16xf32>, %[[X:[^:]+]]: tensor<2x4x4x4x16xf32>, %[[M:[^:]+]]: tensor<16xf32>, %[[V:[^:]+]]: tensor<16xf32>, %[[G:[^:]+]]: tensor<16xf32>)
// CHECK: %[[DX:[^,]+]], %[[DG:[^,]+]], %[[DB:[^ ]+]] = vidnet.batch_norm_train_backward %[[DY]], %[[X]], %[[M]], %[[V]], %[[G]] epsilon 9.99999974E-6 : tensor<2x4x4x4x16xf32>, tensor<16xf32>
// CHECK: return %[[DX]], %[[DG]], %[[DB]] : tensor<2x4x4x4x16xf32>, tensor<16xf32>, tensor<16xf32>
func.func @batch_norm_train_backward(%dy: tensor<2x4x4x4x16xf32>, %x: tensor<2x4x4x4x16xf32>, %m: tensor<16xf32>,
                                     %v: tensor<16xf32>, %g: tensor<16xf32>)
    -> (tensor<2x4x4x4x16xf32>, tensor<16xf32>, tensor<16xf32>) {
  %dx, %dg, %db = vidnet.batch_norm_train_backward %dy, %x, %m, %v, %g epsilon 1.0e-05
      : tensor<2x4x4x4x16xf32>, tensor<16xf32>
  return %dx, %dg, %db : tensor<2x4x4x4x16xf32>, tensor<16xf32>, tensor<16xf32>
}

// CHECK-LABEL: func.func @relu_backward
// CHECK-SAME: (%[[DY:[^:]+]]: tensor<2x4x4x4x16xf32>, %[[Y:[^:]+]]: tensor<2x4x4x4x16xf32>)
// CHECK: vidnet.relu_backward %[[DY]], %[[Y]] : tensor<2x4x4x4x16xf32>
func.func @relu_backward(%dy: tensor<2x4x4x4x16xf32>, %y: tensor<2x4x4x4x16xf32>) -> tensor<2x4x4x4x16xf32> {
  %dx = vidnet.relu_backward %dy, %y : tensor<2x4x4x4x16xf32>
  return %dx : tensor<2x4x4x4x16xf32>
}

// CHECK-LABEL: func.func @global_avg_pool_backward
// CHECK: vidnet.global_avg_pool_backward %{{.*}} : tensor<2x16xf32> -> tensor<2x4x7x7x16xf32>
func.func @global_avg_pool_backward(%dy: tensor<2x16xf32>) -> tensor<2x4x7x7x16xf32> {
  %dx = vidnet.global_avg_pool_backward %dy : tensor<2x16xf32> -> tensor<2x4x7x7x16xf32>
  return %dx : tensor<2x4x7x7x16xf32>
}

// CHECK-LABEL: func.func @unfold_time
// CHECK: vidnet.unfold_time %{{.*}} : tensor<2x1x112x112x24xf32> -> tensor<2x8x112x112x3xf32>
func.func @unfold_time(%x: tensor<2x1x112x112x24xf32>) -> tensor<2x8x112x112x3xf32> {
  %y = vidnet.unfold_time %x : tensor<2x1x112x112x24xf32> -> tensor<2x8x112x112x3xf32>
  return %y : tensor<2x8x112x112x3xf32>
}

// CHECK-LABEL: func.func @dense_backward
// CHECK-SAME: (%[[DY:[^:]+]]: tensor<2x400xf32>, %[[X:[^:]+]]: tensor<2x512xf32>, %[[W:[^:]+]]: tensor<512x400xf32>)
// CHECK: %[[DX:[^,]+]], %[[DW:[^,]+]], %[[DB:[^ ]+]] = vidnet.dense_backward %[[DY]], %[[X]], %[[W]] : (tensor<2x400xf32>, tensor<2x512xf32>, tensor<512x400xf32>) -> (tensor<2x512xf32>, tensor<512x400xf32>, tensor<400xf32>)
// CHECK: return %[[DX]], %[[DW]], %[[DB]]
func.func @dense_backward(%dy: tensor<2x400xf32>, %x: tensor<2x512xf32>, %w: tensor<512x400xf32>)
    -> (tensor<2x512xf32>, tensor<512x400xf32>, tensor<400xf32>) {
  %dx, %dw, %db = vidnet.dense_backward %dy, %x, %w
      : (tensor<2x400xf32>, tensor<2x512xf32>, tensor<512x400xf32>) -> (tensor<2x512xf32>, tensor<512x400xf32>, tensor<400xf32>)
  return %dx, %dw, %db : tensor<2x512xf32>, tensor<512x400xf32>, tensor<400xf32>
}

// CHECK-LABEL: func.func @softmax_cross_entropy_backward
// CHECK-SAME: (%[[L:[^:]+]]: tensor<2x400xf32>, %[[LAB:[^:]+]]: tensor<2xi64>)
// CHECK: vidnet.softmax_cross_entropy_backward %[[L]], %[[LAB]] : (tensor<2x400xf32>, tensor<2xi64>) -> tensor<2x400xf32>
func.func @softmax_cross_entropy_backward(%l: tensor<2x400xf32>, %lab: tensor<2xi64>) -> tensor<2x400xf32> {
  %dl = vidnet.softmax_cross_entropy_backward %l, %lab : (tensor<2x400xf32>, tensor<2xi64>) -> tensor<2x400xf32>
  return %dl : tensor<2x400xf32>
}

// CHECK-LABEL: func.func @sgd_update
// CHECK-SAME: (%[[P:[^:]+]]: tensor<3x3x3x8x16xf32>, %[[G:[^:]+]]: tensor<3x3x3x8x16xf32>, %[[B:[^:]+]]: tensor<3x3x3x8x16xf32>, %[[H:[^:]+]]: tensor<3xf32>)
// CHECK: %[[NP:[^,]+]], %[[NB:[^ ]+]] = vidnet.sgd_update %[[P]], %[[G]], %[[B]], %[[H]] : tensor<3x3x3x8x16xf32>, tensor<3xf32>
// CHECK: return %[[NP]], %[[NB]] : tensor<3x3x3x8x16xf32>, tensor<3x3x3x8x16xf32>
func.func @sgd_update(%p: tensor<3x3x3x8x16xf32>, %g: tensor<3x3x3x8x16xf32>, %b: tensor<3x3x3x8x16xf32>,
                      %h: tensor<3xf32>) -> (tensor<3x3x3x8x16xf32>, tensor<3x3x3x8x16xf32>) {
  %np, %nb = vidnet.sgd_update %p, %g, %b, %h : tensor<3x3x3x8x16xf32>, tensor<3xf32>
  return %np, %nb : tensor<3x3x3x8x16xf32>, tensor<3x3x3x8x16xf32>
}

// CHECK-LABEL: func.func @running_stats_update
// CHECK-SAME: (%[[M:[^:]+]]: tensor<16xf32>, %[[V:[^:]+]]: tensor<16xf32>, %[[BM:[^:]+]]: tensor<16xf32>, %[[BV:[^:]+]]: tensor<16xf32>)
// CHECK: %[[NM:[^,]+]], %[[NV:[^ ]+]] = vidnet.running_stats_update %[[M]], %[[V]], %[[BM]], %[[BV]] momentum 1.000000e-01 count 128 : tensor<16xf32>
// CHECK: return %[[NM]], %[[NV]] : tensor<16xf32>, tensor<16xf32>
func.func @running_stats_update(%m: tensor<16xf32>, %v: tensor<16xf32>, %bm: tensor<16xf32>, %bv: tensor<16xf32>)
    -> (tensor<16xf32>, tensor<16xf32>) {
  %nm, %nv = vidnet.running_stats_update %m, %v, %bm, %bv momentum 0.1 count 128 : tensor<16xf32>
  return %nm, %nv : tensor<16xf32>, tensor<16xf32>
}
