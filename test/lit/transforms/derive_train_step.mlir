// RUN: vidnet-opt --vidnet-derive-train-step %s | FileCheck %s
// RUN: vidnet-opt --vidnet-derive-train-step=keep-forward=false %s | FileCheck %s --check-prefix=DROP

// Tests that train_step is forward in training form (batch_norm -> batch_norm_train and the
// update of its running statistics, count = N*D*H*W = 32), the mean cross-entropy, one VJP per
// forward op in reverse order, the sum of the two cotangents of the residual input, no
// data-gradient for the clips, then SGD per trainable argument; results in argument order.
// CHECK-LABEL: func.func @forward(
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x1x4x4x3xf32>, %[[L:[a-z0-9]+]]: tensor<2xi64> {vidnet.name = "labels"}
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<1x1x1x3x4xf32> {vidnet.name = "conv.weight"}
// CHECK-SAME: %[[M:[a-z0-9]+]]: tensor<4xf32> {vidnet.name = "bn.running_mean", vidnet.state}
// CHECK-SAME: {vidnet.momentum = "conv.weight"}
// CHECK-SAME: {vidnet.momentum = "fc.bias"}, %[[H:[a-z0-9]+]]: tensor<3xf32> {vidnet.name = "hyper"})
// CHECK-SAME: -> (tensor<1x1x1x3x4xf32>, {{.*}}, tensor<f32>, tensor<2x5xf32>)
// CHECK: %[[C:.*]] = vidnet.conv %[[X]], %[[W]]
// CHECK: %[[N:.*]], %[[BM:.*]], %[[BV:.*]] = vidnet.batch_norm_train %[[C]]
// CHECK: vidnet.running_stats_update %[[M]], {{.*}}, %[[BM]], %[[BV]] momentum 1.000000e-01 count 32
// CHECK: %[[R:.*]] = vidnet.relu %[[N]]
// CHECK: %[[C2:.*]] = vidnet.conv %[[R]]
// CHECK: %[[S:.*]] = vidnet.add %[[C2]], %[[R]]
// CHECK: %[[P:.*]] = vidnet.global_avg_pool %[[S]]
// CHECK: %[[Y:.*]] = vidnet.dense %[[P]]
// CHECK: %[[LOSS:.*]] = vidnet.softmax_cross_entropy %[[Y]], %[[L]]
// CHECK: %[[DY:.*]] = vidnet.softmax_cross_entropy_backward %[[Y]], %[[L]]
// CHECK: %[[DP:.*]], %[[DFW:.*]], %[[DFB:.*]] = vidnet.dense_backward %[[DY]], %[[P]]
// CHECK: %[[DS:.*]] = vidnet.global_avg_pool_backward %[[DP]]
// CHECK: %[[DR1:.*]] = vidnet.conv_backward_data %[[DS]]
// CHECK: %[[DR:.*]] = vidnet.add %[[DS]], %[[DR1]]
// CHECK: vidnet.conv_backward_filter %[[R]], %[[DS]]
// CHECK: %[[DN:.*]] = vidnet.relu_backward %[[DR]], %[[R]]
// CHECK: %[[DC:.*]], %[[DG:.*]], %[[DB:.*]] = vidnet.batch_norm_train_backward %[[DN]], %[[C]], %[[BM]], %[[BV]]
// CHECK-NOT: vidnet.conv_backward_data
// CHECK: vidnet.conv_backward_filter %[[X]], %[[DC]]
// CHECK: vidnet.sgd_update %[[W]], {{.*}}, %[[H]]
// CHECK-COUNT-4: vidnet.sgd_update
// CHECK-NOT: vidnet.running_stats_update
// CHECK: return {{.*}}, %[[LOSS]], %[[Y]] :

// DROP-NOT: func.func @forward
// DROP: func.func @train_step
func.func @forward(%x: tensor<2x1x4x4x3xf32> {vidnet.name = "input"},
                   %w: tensor<1x1x1x3x4xf32> {vidnet.name = "conv.weight"},
                   %g: tensor<4xf32> {vidnet.name = "bn.weight"},
                   %b: tensor<4xf32> {vidnet.name = "bn.bias"},
                   %m: tensor<4xf32> {vidnet.name = "bn.running_mean", vidnet.state},
                   %v: tensor<4xf32> {vidnet.name = "bn.running_var", vidnet.state},
                   %w2: tensor<1x1x1x4x4xf32> {vidnet.name = "conv2.weight"},
                   %fw: tensor<4x5xf32> {vidnet.name = "fc.weight"},
                   %fb: tensor<5xf32> {vidnet.name = "fc.bias"}) -> tensor<2x5xf32> {
  %c = vidnet.conv %x, %w strides [1, 1, 1] padding [0, 0, 0] groups 1 : tensor<2x1x4x4x3xf32>, tensor<1x1x1x3x4xf32> -> tensor<2x1x4x4x4xf32>
  %n = vidnet.batch_norm %c, %g, %b, %m, %v epsilon 1.0e-05 : tensor<2x1x4x4x4xf32>, tensor<4xf32>
  %r = vidnet.relu %n : tensor<2x1x4x4x4xf32>
  %c2 = vidnet.conv %r, %w2 strides [1, 1, 1] padding [0, 0, 0] groups 1 : tensor<2x1x4x4x4xf32>, tensor<1x1x1x4x4xf32> -> tensor<2x1x4x4x4xf32>
  %s = vidnet.add %c2, %r : tensor<2x1x4x4x4xf32>
  %p = vidnet.global_avg_pool %s : tensor<2x1x4x4x4xf32> -> tensor<2x4xf32>
  %y = vidnet.dense %p, %fw, %fb : (tensor<2x4xf32>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}
