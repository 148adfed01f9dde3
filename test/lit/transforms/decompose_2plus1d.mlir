// RUN: vidnet-opt --split-input-file --vidnet-decompose-2plus1d %s | FileCheck %s

// Tests that a strided (2+1)D conv splits its stride and padding: H/W on the spatial conv,
// D on the temporal one, with BN and ReLU on the mid channels in between.
// CHECK-LABEL: func.func @strided
// CHECK-SAME: (%[[X:.*]]: tensor<1x16x56x56x64xf32>, %[[WS:.*]]: tensor<1x3x3x64x230xf32>, %[[G:.*]]: tensor<230xf32>, %[[B:.*]]: tensor<230xf32>, %[[M:.*]]: tensor<230xf32>, %[[V:.*]]: tensor<230xf32>, %[[WT:.*]]: tensor<3x1x1x230x128xf32>)
// CHECK-NEXT: %[[S:.*]] = vidnet.conv %[[X]], %[[WS]] strides [1, 2, 2] padding [0, 1, 1] groups 1 : tensor<1x16x56x56x64xf32>, tensor<1x3x3x64x230xf32> -> tensor<1x16x28x28x230xf32>
// CHECK-NEXT: %[[N:.*]] = vidnet.batch_norm %[[S]], %[[G]], %[[B]], %[[M]], %[[V]] epsilon 9.99999974E-6 : tensor<1x16x28x28x230xf32>, tensor<230xf32>
// CHECK-NEXT: %[[R:.*]] = vidnet.relu %[[N]] : tensor<1x16x28x28x230xf32>
// CHECK-NEXT: %[[T:.*]] = vidnet.conv %[[R]], %[[WT]] strides [2, 1, 1] padding [1, 0, 0] groups 1 : tensor<1x16x28x28x230xf32>, tensor<3x1x1x230x128xf32> -> tensor<1x8x28x28x128xf32>
// CHECK-NEXT: return %[[T]]
// CHECK-NOT: vidnet.conv2plus1d
func.func @strided(%x: tensor<1x16x56x56x64xf32>, %ws: tensor<1x3x3x64x230xf32>, %g: tensor<230xf32>,
                   %b: tensor<230xf32>, %m: tensor<230xf32>, %v: tensor<230xf32>,
                   %wt: tensor<3x1x1x230x128xf32>) -> tensor<1x8x28x28x128xf32> {
  %y = vidnet.conv2plus1d %x, %ws, %g, %b, %m, %v, %wt mid 230 strides [2, 2, 2] padding [1, 1, 1]
      epsilon 1.0e-05 : (tensor<1x16x56x56x64xf32>, tensor<1x3x3x64x230xf32>, tensor<230xf32>,
      tensor<230xf32>, tensor<230xf32>, tensor<230xf32>, tensor<3x1x1x230x128xf32>) -> tensor<1x8x28x28x128xf32>
  return %y : tensor<1x8x28x28x128xf32>
}

// -----

// Tests that the stem form (1x7x7 to 45 channels with spatial stride only, then 3x1x1)
// keeps every frame.
// CHECK-LABEL: func.func @stem
// CHECK: vidnet.conv %{{.*}}, %{{.*}} strides [1, 2, 2] padding [0, 3, 3] groups 1 : tensor<2x8x112x112x3xf32>, tensor<1x7x7x3x45xf32> -> tensor<2x8x56x56x45xf32>
// CHECK: vidnet.conv %{{.*}}, %{{.*}} strides [1, 1, 1] padding [1, 0, 0] groups 1 : tensor<2x8x56x56x45xf32>, tensor<3x1x1x45x64xf32> -> tensor<2x8x56x56x64xf32>
func.func @stem(%x: tensor<2x8x112x112x3xf32>, %ws: tensor<1x7x7x3x45xf32>, %g: tensor<45xf32>,
                %wt: tensor<3x1x1x45x64xf32>) -> tensor<2x8x56x56x64xf32> {
  %y = vidnet.conv2plus1d %x, %ws, %g, %g, %g, %g, %wt mid 45 strides [1, 2, 2] padding [1, 3, 3]
      epsilon 1.0e-05 : (tensor<2x8x112x112x3xf32>, tensor<1x7x7x3x45xf32>, tensor<45xf32>,
      tensor<45xf32>, tensor<45xf32>, tensor<45xf32>, tensor<3x1x1x45x64xf32>) -> tensor<2x8x56x56x64xf32>
  return %y : tensor<2x8x56x56x64xf32>
}
