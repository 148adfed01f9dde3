// RUN: vidnet-opt --split-input-file --verify-diagnostics %s

// Tests that a conv result whose extent disagrees with PyTorch's arithmetic is rejected.
func.func @bad_extent(%x: tensor<1x16x56x56x64xf32>, %w: tensor<3x3x3x64x64xf32>) -> tensor<1x16x55x56x64xf32> {
  // expected-error @+1 {{result shape 1x16x55x56x64 does not match input 1x16x56x56x64 convolved with kernel 3x3x3: expected extent 56 in dimension 2}}
  %y = vidnet.conv %x, %w strides [1, 1, 1] padding [1, 1, 1] groups 1 : tensor<1x16x56x56x64xf32>, tensor<3x3x3x64x64xf32> -> tensor<1x16x55x56x64xf32>
  return %y : tensor<1x16x55x56x64xf32>
}

// -----

// Tests that filter input channels must match the input's.
func.func @bad_channels(%x: tensor<1x4x8x8x32xf32>, %w: tensor<3x3x3x64x64xf32>) -> tensor<1x4x8x8x64xf32> {
  // expected-error @+1 {{filter 3x3x3x64x64 expects 64 input channels, the input 1x4x8x8x32 has 32}}
  %y = vidnet.conv %x, %w strides [1, 1, 1] padding [1, 1, 1] groups 1 : tensor<1x4x8x8x32xf32>, tensor<3x3x3x64x64xf32> -> tensor<1x4x8x8x64xf32>
  return %y : tensor<1x4x8x8x64xf32>
}

// -----

// Tests that grouped convs need groups to divide the channels.
func.func @bad_groups(%x: tensor<1x4x8x8x30xf32>, %w: tensor<3x3x3x7x64xf32>) -> tensor<1x4x8x8x64xf32> {
  // expected-error @+1 {{groups 4 must divide input channels 30 and output channels 64}}
  %y = vidnet.conv %x, %w strides [1, 1, 1] padding [1, 1, 1] groups 4 : tensor<1x4x8x8x30xf32>, tensor<3x3x3x7x64xf32> -> tensor<1x4x8x8x64xf32>
  return %y : tensor<1x4x8x8x64xf32>
}

// -----

// Tests that strides need three entries.
func.func @bad_strides(%x: tensor<1x4x8x8x3xf32>, %w: tensor<1x1x1x3x3xf32>) -> tensor<1x4x8x8x3xf32> {
  // expected-error @+1 {{strides and padding need 3 values (D, H, W), got 2 and 3}}
  %y = vidnet.conv %x, %w strides [1, 1] padding [0, 0, 0] groups 1 : tensor<1x4x8x8x3xf32>, tensor<1x1x1x3x3xf32> -> tensor<1x4x8x8x3xf32>
  return %y : tensor<1x4x8x8x3xf32>
}

// -----

// Tests that the (2+1)D spatial filter must produce `mid` channels.
func.func @bad_mid(%x: tensor<1x16x56x56x64xf32>, %ws: tensor<1x3x3x64x144xf32>, %g: tensor<230xf32>,
                   %wt: tensor<3x1x1x230x128xf32>) -> tensor<1x8x28x28x128xf32> {
  // expected-error @+1 {{spatial filter 1x3x3x64x144 must be 1 x d x d x 64 x 230 (mid)}}
  %y = vidnet.conv2plus1d %x, %ws, %g, %g, %g, %g, %wt mid 230 strides [2, 2, 2] padding [1, 1, 1]
      epsilon 1.0e-05 : (tensor<1x16x56x56x64xf32>, tensor<1x3x3x64x144xf32>, tensor<230xf32>,
      tensor<230xf32>, tensor<230xf32>, tensor<230xf32>, tensor<3x1x1x230x128xf32>) -> tensor<1x8x28x28x128xf32>
  return %y : tensor<1x8x28x28x128xf32>
}

// -----

// Tests that batch-norm parameters must have one entry per channel.
func.func @bad_bn(%x: tensor<1x2x2x2x8xf32>, %g: tensor<4xf32>) -> tensor<1x2x2x2x8xf32> {
  // expected-error @+1 {{batch-norm parameters have 4 entries, expected 8 (the channel dimension)}}
  %y = vidnet.batch_norm %x, %g, %g, %g, %g epsilon 1.0e-05 : tensor<1x2x2x2x8xf32>, tensor<4xf32>
  return %y : tensor<1x2x2x2x8xf32>
}

// -----

// Tests that fold_time's result must hold D*C channels in one frame.
func.func @bad_fold(%x: tensor<2x8x4x4x3xf32>) -> tensor<2x1x4x4x3xf32> {
  // expected-error @+1 {{result 2x1x4x4x3 is not the input 2x8x4x4x3 with its frames folded into channels}}
  %y = vidnet.fold_time %x : tensor<2x8x4x4x3xf32> -> tensor<2x1x4x4x3xf32>
  return %y : tensor<2x1x4x4x3xf32>
}

// -----

// Tests that the dense weight must be C x K for an N x C input.
func.func @bad_dense(%x: tensor<2x512xf32>, %w: tensor<256x400xf32>, %b: tensor<400xf32>) -> tensor<2x400xf32> {
  // expected-error @+1 {{weight 256x400 needs 512 rows for input 2x512}}
  %y = vidnet.dense %x, %w, %b : (tensor<2x512xf32>, tensor<256x400xf32>, tensor<400xf32>) -> tensor<2x400xf32>
  return %y : tensor<2x400xf32>
}

// -----

// Tests that there is one label per clip.
func.func @bad_labels(%l: tensor<2x400xf32>, %y: tensor<3xi64>) -> tensor<f32> {
  // expected-error @+1 {{has 3 labels for a batch of 2}}
  %loss = vidnet.softmax_cross_entropy %l, %y : (tensor<2x400xf32>, tensor<3xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
