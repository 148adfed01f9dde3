// RUN: vidnet-opt %s | vidnet-opt | FileCheck %s
// RUN: vidnet-opt --mlir-print-op-generic %s | vidnet-opt | FileCheck %s

// Tests that every vidnet op prints and parses back to the same IR.
// CHECK-LABEL: func.func @block
func.func @block(%x: tensor<2x16x112x112x3xf32>, %w: tensor<3x7x7x3x64xf32>,
                 %g: tensor<64xf32>, %b: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>)
    -> tensor<2x16x56x56x64xf32> {
  // CHECK: vidnet.conv %{{.*}}, %{{.*}} strides [1, 2, 2] padding [1, 3, 3] groups 1 : tensor<2x16x112x112x3xf32>, tensor<3x7x7x3x64xf32> -> tensor<2x16x56x56x64xf32>
  %c = vidnet.conv %x, %w strides [1, 2, 2] padding [1, 3, 3] groups 1
      : tensor<2x16x112x112x3xf32>, tensor<3x7x7x3x64xf32> -> tensor<2x16x56x56x64xf32>
  // CHECK: vidnet.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} epsilon 9.99999974E-6 : tensor<2x16x56x56x64xf32>, tensor<64xf32>
  %n = vidnet.batch_norm %c, %g, %b, %m, %v epsilon 1.0e-05 : tensor<2x16x56x56x64xf32>, tensor<64xf32>
  // CHECK: vidnet.relu %{{.*}} : tensor<2x16x56x56x64xf32>
  %r = vidnet.relu %n : tensor<2x16x56x56x64xf32>
  // CHECK: vidnet.add %{{.*}}, %{{.*}} : tensor<2x16x56x56x64xf32>
  %a = vidnet.add %r, %c : tensor<2x16x56x56x64xf32>
  return %a : tensor<2x16x56x56x64xf32>
}

// CHECK-LABEL: func.func @factorized
func.func @factorized(%x: tensor<1x16x56x56x64xf32>, %ws: tensor<1x3x3x64x230xf32>,
                      %g: tensor<230xf32>, %wt: tensor<3x1x1x230x128xf32>)
    -> tensor<1x8x28x28x128xf32> {
  // CHECK: vidnet.conv2plus1d {{.*}} mid 230 strides [2, 2, 2] padding [1, 1, 1]
  %y = vidnet.conv2plus1d %x, %ws, %g, %g, %g, %g, %wt mid 230 strides [2, 2, 2] padding [1, 1, 1]
      epsilon 1.0e-05 : (tensor<1x16x56x56x64xf32>, tensor<1x3x3x64x230xf32>, tensor<230xf32>,
      tensor<230xf32>, tensor<230xf32>, tensor<230xf32>, tensor<3x1x1x230x128xf32>) -> tensor<1x8x28x28x128xf32>
  return %y : tensor<1x8x28x28x128xf32>
}

// CHECK-LABEL: func.func @head
func.func @head(%x: tensor<2x8x112x112x3xf32>, %f: tensor<2x1x7x7x512xf32>, %w: tensor<512x400xf32>,
                %b: tensor<400xf32>, %labels: tensor<2xi64>, %g: tensor<512xf32>)
    -> (tensor<2x1x112x112x24xf32>, tensor<f32>, tensor<2x1x7x7x512xf32>, tensor<512xf32>) {
  // CHECK: vidnet.fold_time %{{.*}} : tensor<2x8x112x112x3xf32> -> tensor<2x1x112x112x24xf32>
  %folded = vidnet.fold_time %x : tensor<2x8x112x112x3xf32> -> tensor<2x1x112x112x24xf32>
  // CHECK: vidnet.global_avg_pool %{{.*}} : tensor<2x1x7x7x512xf32> -> tensor<2x512xf32>
  %p = vidnet.global_avg_pool %f : tensor<2x1x7x7x512xf32> -> tensor<2x512xf32>
  // CHECK: vidnet.dense %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x512xf32>, tensor<512x400xf32>, tensor<400xf32>) -> tensor<2x400xf32>
  %logits = vidnet.dense %p, %w, %b : (tensor<2x512xf32>, tensor<512x400xf32>, tensor<400xf32>) -> tensor<2x400xf32>
  // CHECK: vidnet.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<2x400xf32>, tensor<2xi64>) -> tensor<f32>
  %loss = vidnet.softmax_cross_entropy %logits, %labels : (tensor<2x400xf32>, tensor<2xi64>) -> tensor<f32>
  // CHECK: vidnet.batch_norm_train %{{.*}}, %{{.*}}, %{{.*}} epsilon 9.99999974E-6 : tensor<2x1x7x7x512xf32>, tensor<512xf32>
  %y, %mean, %var = vidnet.batch_norm_train %f, %g, %g epsilon 1.0e-05 : tensor<2x1x7x7x512xf32>, tensor<512xf32>
  return %folded, %loss, %y, %mean : tensor<2x1x112x112x24xf32>, tensor<f32>, tensor<2x1x7x7x512xf32>, tensor<512xf32>
}

// Tests that grouped and depthwise convs keep their groups (filters D x H x W x C/groups x F).
// CHECK-LABEL: func.func @grouped
// CHECK: vidnet.conv %{{.*}}, %{{.*}} strides [1, 1, 1] padding [1, 1, 1] groups 16 : tensor<1x4x8x8x16xf32>, tensor<3x3x3x1x16xf32> -> tensor<1x4x8x8x16xf32>
// CHECK: vidnet.conv %{{.*}}, %{{.*}} strides [2, 2, 2] padding [1, 1, 1] groups 4 : tensor<1x4x8x8x16xf32>, tensor<3x3x3x4x32xf32> -> tensor<1x2x4x4x32xf32>
func.func @grouped(%x: tensor<1x4x8x8x16xf32>, %dw: tensor<3x3x3x1x16xf32>, %w: tensor<3x3x3x4x32xf32>)
    -> (tensor<1x4x8x8x16xf32>, tensor<1x2x4x4x32xf32>) {
  %d = vidnet.conv %x, %dw strides [1, 1, 1] padding [1, 1, 1] groups 16
      : tensor<1x4x8x8x16xf32>, tensor<3x3x3x1x16xf32> -> tensor<1x4x8x8x16xf32>
  %g = vidnet.conv %x, %w strides [2, 2, 2] padding [1, 1, 1] groups 4
      : tensor<1x4x8x8x16xf32>, tensor<3x3x3x4x32xf32> -> tensor<1x2x4x4x32xf32>
  return %d, %g : tensor<1x4x8x8x16xf32>, tensor<1x2x4x4x32xf32>
}
