// RUN: vidnet-opt --split-input-file --verify-diagnostics %s

// Tests that the verifiers and ODS constraints of the backward and optimizer ops reject bad IR.
// Each case has shapes or types that no forward op they differentiate could have (the forward
// ops: invalid.mlir).

// Tests that conv_backward_data's input gradient must be the input of the conv that produced dy
// (8 convolved with kernel 3, stride 2, padding 1 is 4, not 5).
func.func @bwd_data_extent(%dy: tensor<1x5x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x4xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op result shape 1x5x4x4x8 does not match input 1x8x8x8x4 convolved with kernel 3x3x3: expected extent 4 in dimension 1}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<1x5x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x4xf32>
  return %dx : tensor<1x8x8x8x4xf32>
}

// -----

// Tests that conv_backward_data's input gradient needs the filter's input channels.
func.func @bwd_data_channels(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x3xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op filter 3x3x3x4x8 does not map 1x8x8x8x3 to 1x4x4x4x8}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<1x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x3xf32>
  return %dx : tensor<1x8x8x8x3xf32>
}

// -----

// Tests that conv_backward_data's dy needs the filter's output channels.
func.func @bwd_data_out_channels(%dy: tensor<1x4x4x4x16xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x4xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op filter 3x3x3x4x8 does not map 1x8x8x8x4 to 1x4x4x4x16}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<1x4x4x4x16xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x4xf32>
  return %dx : tensor<1x8x8x8x4xf32>
}

// -----

// Tests that conv_backward_data's batch must be dy's.
func.func @bwd_data_batch(%dy: tensor<2x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x4xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op batch of the result (2) differs from the input's (1)}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<2x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x4xf32>
  return %dx : tensor<1x8x8x8x4xf32>
}

// -----

// Tests that a grouped conv's input gradient needs groups that divide both channel counts
// (3 divides neither 4 nor 8).
func.func @bwd_data_groups(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x3x3x2x8xf32>) -> tensor<1x8x8x8x4xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op groups 3 must divide input channels 4 and output channels 8}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 3
      : tensor<1x4x4x4x8xf32>, tensor<3x3x3x2x8xf32> -> tensor<1x8x8x8x4xf32>
  return %dx : tensor<1x8x8x8x4xf32>
}

// -----

// Tests that a grouped conv's filter has C / groups input channels (4 / 2 = 2, not 4).
func.func @bwd_data_group_filter(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x4xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op filter 3x3x3x4x8 does not map 1x8x8x8x4 to 1x4x4x4x8}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 2
      : tensor<1x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x4xf32>
  return %dx : tensor<1x8x8x8x4xf32>
}

// -----

// Tests that conv_backward_data's strides need three entries.
func.func @bwd_data_strides(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x4xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op strides and padding need 3 values (D, H, W), got 2 and 3}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2] padding [1, 1, 1] groups 1
      : tensor<1x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x4xf32>
  return %dx : tensor<1x8x8x8x4xf32>
}

// -----

// Tests that conv_backward_data's strides must be positive.
func.func @bwd_data_zero_stride(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x4xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op stride 1 must be positive, got 0}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 0, 2] padding [1, 1, 1] groups 1
      : tensor<1x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x4xf32>
  return %dx : tensor<1x8x8x8x4xf32>
}

// -----

// Tests that conv_backward_data's gradients are 5-d f32 tensors (ODS).
func.func @bwd_data_f16(%dy: tensor<1x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) -> tensor<1x8x8x8x4xf16> {
  // expected-error @+1 {{'vidnet.conv_backward_data' op result #0 must be 5D tensor of 32-bit float values, but got 'tensor<1x8x8x8x4xf16>'}}
  %dx = vidnet.conv_backward_data %dy, %w strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<1x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<1x8x8x8x4xf16>
  return %dx : tensor<1x8x8x8x4xf16>
}

// -----

// Tests that conv_backward_filter's gradient must have the input's channels.
func.func @bwd_filter_channels(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x3x3x2x8xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op filter gradient 3x3x3x2x8 does not map 1x8x8x8x4 to 1x4x4x4x8}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x3x3x2x8xf32>
  return %dw : tensor<3x3x3x2x8xf32>
}

// -----

// Tests that conv_backward_filter's gradient must have dy's channels.
func.func @bwd_filter_out_channels(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x3x3x4x16xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op filter gradient 3x3x3x4x16 does not map 1x8x8x8x4 to 1x4x4x4x8}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x3x3x4x16xf32>
  return %dw : tensor<3x3x3x4x16xf32>
}

// -----

// Tests that conv_backward_filter's kernel extents must be those of the conv that produced dy
// (8 convolved with kernel 5, stride 2, padding 1 is 3, not 4).
func.func @bwd_filter_kernel(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x5x3x4x8xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op result shape 1x4x4x4x8 does not match input 1x8x8x8x4 convolved with kernel 3x5x3: expected extent 3 in dimension 2}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 1
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x5x3x4x8xf32>
  return %dw : tensor<3x5x3x4x8xf32>
}

// -----

// Tests that conv_backward_filter rejects a kernel larger than the padded input.
func.func @bwd_filter_too_big(%x: tensor<1x3x8x8x4xf32>, %dy: tensor<1x1x8x8x8xf32>) -> tensor<5x1x1x4x8xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op kernel 5 with padding 0 does not fit input extent 3 in dimension 1}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [0, 0, 0] groups 1
      : tensor<1x3x8x8x4xf32>, tensor<1x1x8x8x8xf32> -> tensor<5x1x1x4x8xf32>
  return %dw : tensor<5x1x1x4x8xf32>
}

// -----

// Tests that conv_backward_filter's paddings must be non-negative.
func.func @bwd_filter_padding(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x3x3x4x8xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op padding 2 must be non-negative, got -1}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, -1] groups 1
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x3x3x4x8xf32>
  return %dw : tensor<3x3x3x4x8xf32>
}

// -----

// Tests that a grouped conv's filter gradient has C / groups input channels (4 / 4 = 1, not 4).
func.func @bwd_filter_groups(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x3x3x4x8xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op filter gradient 3x3x3x4x8 does not map 1x8x8x8x4 to 1x4x4x4x8}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 4
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x3x3x4x8xf32>
  return %dw : tensor<3x3x3x4x8xf32>
}

// -----

// Tests that a grouped conv's filter gradient needs groups that divide both channel counts
// (8 does not divide 4).
func.func @bwd_filter_group_count(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x3x3x1x8xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op groups 8 must divide input channels 4 and output channels 8}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 8
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x3x3x1x8xf32>
  return %dw : tensor<3x3x3x1x8xf32>
}

// -----

// Tests that conv_backward_filter's groups must be positive (ODS).
func.func @bwd_filter_zero_groups(%x: tensor<1x8x8x8x4xf32>, %dy: tensor<1x4x4x4x8xf32>) -> tensor<3x3x3x4x8xf32> {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op attribute 'groups' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [2, 2, 2] padding [1, 1, 1] groups 0
      : tensor<1x8x8x8x4xf32>, tensor<1x4x4x4x8xf32> -> tensor<3x3x3x4x8xf32>
  return %dw : tensor<3x3x3x4x8xf32>
}

// -----

// Tests that batch_norm_train_backward's input gradient must be typed like the input.
func.func @bn_bwd_input_grad(%dy: tensor<2x4x4x4x16xf32>, %x: tensor<2x4x4x4x16xf32>, %v: tensor<16xf32>)
    -> tensor<2x4x4x8x16xf32> {
  // expected-error @+1 {{'vidnet.batch_norm_train_backward' op failed to verify that all of {output_grad, input, input_grad} have same type}}
  %dx, %dg, %db = "vidnet.batch_norm_train_backward"(%dy, %x, %v, %v, %v) {epsilon = 1.0e-05 : f32}
      : (tensor<2x4x4x4x16xf32>, tensor<2x4x4x4x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<2x4x4x8x16xf32>, tensor<16xf32>, tensor<16xf32>)
  return %dx : tensor<2x4x4x8x16xf32>
}

// -----

// Tests that batch_norm_train_backward's channel vectors must all have one type.
func.func @bn_bwd_vectors(%dy: tensor<2x4x4x4x16xf32>, %x: tensor<2x4x4x4x16xf32>, %m: tensor<16xf32>,
                          %v: tensor<8xf32>, %g: tensor<16xf32>) {
  // expected-error @+1 {{'vidnet.batch_norm_train_backward' op failed to verify that all of {batch_mean, batch_var, gamma, gamma_grad, beta_grad} have same type}}
  %dx, %dg, %db = "vidnet.batch_norm_train_backward"(%dy, %x, %m, %v, %g) {epsilon = 1.0e-05 : f32}
      : (tensor<2x4x4x4x16xf32>, tensor<2x4x4x4x16xf32>, tensor<16xf32>, tensor<8xf32>, tensor<16xf32>)
      -> (tensor<2x4x4x4x16xf32>, tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

// Tests that batch_norm_train_backward's channel vectors are 1-d f32 tensors (ODS).
func.func @bn_bwd_vector_rank(%dy: tensor<2x4x4x4x16xf32>, %x: tensor<2x4x4x4x16xf32>, %v: tensor<1x16xf32>) {
  // expected-error @+1 {{'vidnet.batch_norm_train_backward' op operand #2 must be 1D tensor of 32-bit float values, but got 'tensor<1x16xf32>'}}
  %dx, %dg, %db = vidnet.batch_norm_train_backward %dy, %x, %v, %v, %v epsilon 1.0e-05 : tensor<2x4x4x4x16xf32>, tensor<1x16xf32>
  return
}

// -----

// Tests that relu_backward's dy, output and result have one type.
func.func @relu_bwd(%dy: tensor<2x4xf32>, %y: tensor<2x5xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'vidnet.relu_backward' op requires the same type for all operands and results}}
  %dx = "vidnet.relu_backward"(%dy, %y) : (tensor<2x4xf32>, tensor<2x5xf32>) -> tensor<2x4xf32>
  return %dx : tensor<2x4xf32>
}

// -----

// Tests that global_avg_pool_backward's dy must be N x C of the gradient it spreads into.
func.func @pool_bwd_channels(%dy: tensor<2x16xf32>) -> tensor<2x4x7x7x8xf32> {
  // expected-error @+1 {{'vidnet.global_avg_pool_backward' op gradient 2x16 must be N x C of the result 2x4x7x7x8}}
  %dx = vidnet.global_avg_pool_backward %dy : tensor<2x16xf32> -> tensor<2x4x7x7x8xf32>
  return %dx : tensor<2x4x7x7x8xf32>
}

// -----

// Tests that global_avg_pool_backward keeps the batch.
func.func @pool_bwd_batch(%dy: tensor<2x16xf32>) -> tensor<1x4x7x7x16xf32> {
  // expected-error @+1 {{'vidnet.global_avg_pool_backward' op gradient 2x16 must be N x C of the result 1x4x7x7x16}}
  %dx = vidnet.global_avg_pool_backward %dy : tensor<2x16xf32> -> tensor<1x4x7x7x16xf32>
  return %dx : tensor<1x4x7x7x16xf32>
}

// -----

// Tests that global_avg_pool_backward's result is 5-d (ODS).
func.func @pool_bwd_rank(%dy: tensor<2x16xf32>) -> tensor<2x7x7x16xf32> {
  // expected-error @+1 {{'vidnet.global_avg_pool_backward' op result #0 must be 5D tensor of 32-bit float values, but got 'tensor<2x7x7x16xf32>'}}
  %dx = vidnet.global_avg_pool_backward %dy : tensor<2x16xf32> -> tensor<2x7x7x16xf32>
  return %dx : tensor<2x7x7x16xf32>
}

// -----

// Tests that unfold_time's result must split the channels into D frames of C (8 * 3 != 20).
func.func @unfold_channels(%x: tensor<2x1x4x4x20xf32>) -> tensor<2x8x4x4x3xf32> {
  // expected-error @+1 {{'vidnet.unfold_time' op input 2x1x4x4x20 is not the result 2x8x4x4x3 with its frames folded into channels}}
  %y = vidnet.unfold_time %x : tensor<2x1x4x4x20xf32> -> tensor<2x8x4x4x3xf32>
  return %y : tensor<2x8x4x4x3xf32>
}

// -----

// Tests that unfold_time's input has one frame.
func.func @unfold_frames(%x: tensor<2x2x4x4x12xf32>) -> tensor<2x8x4x4x3xf32> {
  // expected-error @+1 {{'vidnet.unfold_time' op input 2x2x4x4x12 is not the result 2x8x4x4x3 with its frames folded into channels}}
  %y = vidnet.unfold_time %x : tensor<2x2x4x4x12xf32> -> tensor<2x8x4x4x3xf32>
  return %y : tensor<2x8x4x4x3xf32>
}

// -----

// Tests that unfold_time keeps H and W.
func.func @unfold_spatial(%x: tensor<2x1x4x4x24xf32>) -> tensor<2x8x4x2x3xf32> {
  // expected-error @+1 {{'vidnet.unfold_time' op input 2x1x4x4x24 is not the result 2x8x4x2x3 with its frames folded into channels}}
  %y = vidnet.unfold_time %x : tensor<2x1x4x4x24xf32> -> tensor<2x8x4x2x3xf32>
  return %y : tensor<2x8x4x2x3xf32>
}

// -----

// Tests that dense_backward's weight must be C x K for x N x C and dy N x K.
func.func @dense_bwd_weight(%dy: tensor<2x10xf32>, %x: tensor<2x16xf32>, %w: tensor<16x12xf32>) {
  // expected-error @+1 {{'vidnet.dense_backward' op shapes do not match a dense layer: dy 2x10, x 2x16, weight 16x12}}
  %dx, %dw, %db = vidnet.dense_backward %dy, %x, %w
      : (tensor<2x10xf32>, tensor<2x16xf32>, tensor<16x12xf32>) -> (tensor<2x16xf32>, tensor<16x12xf32>, tensor<12xf32>)
  return
}

// -----

// Tests that dense_backward's dy and x share the batch.
func.func @dense_bwd_batch(%dy: tensor<3x10xf32>, %x: tensor<2x16xf32>, %w: tensor<16x10xf32>) {
  // expected-error @+1 {{'vidnet.dense_backward' op shapes do not match a dense layer: dy 3x10, x 2x16, weight 16x10}}
  %dx, %dw, %db = vidnet.dense_backward %dy, %x, %w
      : (tensor<3x10xf32>, tensor<2x16xf32>, tensor<16x10xf32>) -> (tensor<2x16xf32>, tensor<16x10xf32>, tensor<10xf32>)
  return
}

// -----

// Tests that dense_backward's input gradient is shaped like the input.
func.func @dense_bwd_input_grad(%dy: tensor<2x10xf32>, %x: tensor<2x16xf32>, %w: tensor<16x10xf32>) {
  // expected-error @+1 {{'vidnet.dense_backward' op shapes do not match a dense layer: dy 2x10, x 2x16, weight 16x10}}
  %dx, %dw, %db = vidnet.dense_backward %dy, %x, %w
      : (tensor<2x10xf32>, tensor<2x16xf32>, tensor<16x10xf32>) -> (tensor<16x2xf32>, tensor<16x10xf32>, tensor<10xf32>)
  return
}

// -----

// Tests that dense_backward's weight gradient is shaped like the weight.
func.func @dense_bwd_weight_grad(%dy: tensor<2x10xf32>, %x: tensor<2x16xf32>, %w: tensor<16x10xf32>) {
  // expected-error @+1 {{'vidnet.dense_backward' op shapes do not match a dense layer: dy 2x10, x 2x16, weight 16x10}}
  %dx, %dw, %db = vidnet.dense_backward %dy, %x, %w
      : (tensor<2x10xf32>, tensor<2x16xf32>, tensor<16x10xf32>) -> (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>)
  return
}

// -----

// Tests that dense_backward's bias gradient has one entry per output.
func.func @dense_bwd_bias_grad(%dy: tensor<2x10xf32>, %x: tensor<2x16xf32>, %w: tensor<16x10xf32>) {
  // expected-error @+1 {{'vidnet.dense_backward' op shapes do not match a dense layer: dy 2x10, x 2x16, weight 16x10}}
  %dx, %dw, %db = vidnet.dense_backward %dy, %x, %w
      : (tensor<2x10xf32>, tensor<2x16xf32>, tensor<16x10xf32>) -> (tensor<2x16xf32>, tensor<16x10xf32>, tensor<16xf32>)
  return
}

// -----

// Tests that softmax_cross_entropy_backward needs one label per row.
func.func @ce_bwd_labels(%l: tensor<2x400xf32>, %y: tensor<3xi64>) -> tensor<2x400xf32> {
  // expected-error @+1 {{'vidnet.softmax_cross_entropy_backward' op needs one label per row and a gradient shaped like the logits 2x400}}
  %dl = vidnet.softmax_cross_entropy_backward %l, %y : (tensor<2x400xf32>, tensor<3xi64>) -> tensor<2x400xf32>
  return %dl : tensor<2x400xf32>
}

// -----

// Tests that softmax_cross_entropy_backward's gradient is shaped like the logits.
func.func @ce_bwd_grad(%l: tensor<2x400xf32>, %y: tensor<2xi64>) -> tensor<2x40xf32> {
  // expected-error @+1 {{'vidnet.softmax_cross_entropy_backward' op needs one label per row and a gradient shaped like the logits 2x400}}
  %dl = vidnet.softmax_cross_entropy_backward %l, %y : (tensor<2x400xf32>, tensor<2xi64>) -> tensor<2x40xf32>
  return %dl : tensor<2x40xf32>
}

// -----

// Tests that softmax_cross_entropy_backward's labels are i64 (ODS).
func.func @ce_bwd_label_type(%l: tensor<2x400xf32>, %y: tensor<2xi32>) -> tensor<2x400xf32> {
  // expected-error @+1 {{'vidnet.softmax_cross_entropy_backward' op operand #1 must be 1D tensor of 64-bit signless integer values, but got 'tensor<2xi32>'}}
  %dl = vidnet.softmax_cross_entropy_backward %l, %y : (tensor<2x400xf32>, tensor<2xi32>) -> tensor<2x400xf32>
  return %dl : tensor<2x400xf32>
}

// -----

// Tests that sgd_update's parameter, gradient and momentum buffer have one type.
func.func @sgd_grad(%p: tensor<16x10xf32>, %g: tensor<10x16xf32>, %h: tensor<3xf32>) {
  // expected-error @+1 {{'vidnet.sgd_update' op failed to verify that all of {param, grad, momentum_buffer, new_param, new_momentum_buffer} have same type}}
  %np, %nb = "vidnet.sgd_update"(%p, %g, %p, %h)
      : (tensor<16x10xf32>, tensor<10x16xf32>, tensor<16x10xf32>, tensor<3xf32>) -> (tensor<16x10xf32>, tensor<16x10xf32>)
  return
}

// -----

// Tests that sgd_update's new momentum buffer is typed like the parameter.
func.func @sgd_new_buffer(%p: tensor<16x10xf32>, %h: tensor<3xf32>) {
  // expected-error @+1 {{'vidnet.sgd_update' op failed to verify that all of {param, grad, momentum_buffer, new_param, new_momentum_buffer} have same type}}
  %np, %nb = "vidnet.sgd_update"(%p, %p, %p, %h)
      : (tensor<16x10xf32>, tensor<16x10xf32>, tensor<16x10xf32>, tensor<3xf32>) -> (tensor<16x10xf32>, tensor<16x5xf32>)
  return
}

// -----

// Tests that sgd_update's hyperparameters are a 1-d f32 tensor (ODS).
func.func @sgd_hyper(%p: tensor<16x10xf32>, %h: tensor<3x1xf32>) {
  // expected-error @+1 {{'vidnet.sgd_update' op operand #3 must be 1D tensor of 32-bit float values, but got 'tensor<3x1xf32>'}}
  %np, %nb = vidnet.sgd_update %p, %p, %p, %h : tensor<16x10xf32>, tensor<3x1xf32>
  return
}

// -----

// Tests that running_stats_update's statistics have one type.
func.func @stats_types(%m: tensor<16xf32>, %v: tensor<8xf32>) {
  // expected-error @+1 {{'vidnet.running_stats_update' op failed to verify that all of {running_mean, running_var, batch_mean, batch_var, new_running_mean, new_running_var} have same type}}
  %nm, %nv = "vidnet.running_stats_update"(%m, %m, %m, %v) {momentum = 0.1 : f32, count = 128 : i64}
      : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<8xf32>) -> (tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

// Tests that running_stats_update's results are typed like the statistics.
func.func @stats_results(%m: tensor<16xf32>) {
  // expected-error @+1 {{'vidnet.running_stats_update' op failed to verify that all of {running_mean, running_var, batch_mean, batch_var, new_running_mean, new_running_var} have same type}}
  %nm, %nv = "vidnet.running_stats_update"(%m, %m, %m, %m) {momentum = 0.1 : f32, count = 128 : i64}
      : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<16xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that running_stats_update's count must be positive (ODS).
func.func @stats_count(%m: tensor<16xf32>) {
  // expected-error @+1 {{'vidnet.running_stats_update' op attribute 'count' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %nm, %nv = vidnet.running_stats_update %m, %m, %m, %m momentum 0.1 count 0 : tensor<16xf32>
  return
}

// -----

// Tests that batch_norm_train_backward's channel vectors have one entry per channel.
func.func @bn_backward_channels(%dy: tensor<2x4x4x4x16xf32>, %x: tensor<2x4x4x4x16xf32>, %v: tensor<8xf32>) {
  // expected-error @+1 {{'vidnet.batch_norm_train_backward' op batch-norm parameters have 8 entries, expected 16 (the channel dimension)}}
  %dx, %dg, %db = vidnet.batch_norm_train_backward %dy, %x, %v, %v, %v epsilon 1.0e-05 : tensor<2x4x4x4x16xf32>, tensor<8xf32>
  return
}

// -----

// Tests that sgd_update's hyper holds exactly (lr, momentum, weight_decay).
func.func @sgd_hyper(%p: tensor<16xf32>, %h: tensor<2xf32>) {
  // expected-error @+1 {{'vidnet.sgd_update' op hyper holds (lr, momentum, weight_decay): expected 3 entries, got 2}}
  %np, %nb = vidnet.sgd_update %p, %p, %p, %h : tensor<16xf32>, tensor<2xf32>
  return
}

// -----

// Tests that relu_backward is f32 only, as its lowering is.
func.func @relu_backward_int(%x: tensor<4xi32>) {
  // expected-error @+1 {{'vidnet.relu_backward' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<4xi32>'}}
  %dx = vidnet.relu_backward %x, %x : tensor<4xi32>
  return
}

// -----

// Tests that the conv gradients need static shapes, as vidnet.conv does.
func.func @conv_backward_data_dynamic(%dy: tensor<?x4x4x4x8xf32>, %w: tensor<3x3x3x4x8xf32>) {
  // expected-error @+1 {{'vidnet.conv_backward_data' op needs static shapes}}
  %dx = vidnet.conv_backward_data %dy, %w strides [1, 1, 1] padding [1, 1, 1] groups 1 : tensor<?x4x4x4x8xf32>, tensor<3x3x3x4x8xf32> -> tensor<?x4x4x4x4xf32>
  return
}

// -----

func.func @conv_backward_filter_dynamic(%x: tensor<2x4x4x4x4xf32>, %dy: tensor<2x4x4x4x8xf32>) {
  // expected-error @+1 {{'vidnet.conv_backward_filter' op needs static shapes}}
  %dw = vidnet.conv_backward_filter %x, %dy strides [1, 1, 1] padding [1, 1, 1] groups 1 : tensor<2x4x4x4x4xf32>, tensor<2x4x4x4x8xf32> -> tensor<?x3x3x4x8xf32>
  return
}
