// RUN: vidnet-opt --split-input-file --verify-diagnostics %s

// Tests that the max_pool verifiers reject what PyTorch's max_pool3d rejects, and shapes that
// do not follow its floor-mode arithmetic.

// Tests that the result extent must be floor((in + 2 pad - kernel) / stride) + 1: 56 with
// kernel 3, stride 2, padding 1 is 28, not 27.
func.func @extent(%x: tensor<2x8x56x56x64xf32>) -> tensor<2x8x27x28x64xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op result shape 2x8x27x28x64 does not match input 2x8x56x56x64 pooled with kernel 1x3x3: expected extent 28 in dimension 2}}
  %y = vidnet.max_pool %x kernel [1, 3, 3] strides [1, 2, 2] padding [0, 1, 1]
      : tensor<2x8x56x56x64xf32> -> tensor<2x8x27x28x64xf32>
  return %y : tensor<2x8x27x28x64xf32>
}

// -----

// Tests that padding may be at most half the kernel (torch: "pad should be at most half of
// effective kernel size"): 2 for a kernel of 3 is not.
func.func @pad_over_half(%x: tensor<1x4x8x8x2xf32>) -> tensor<1x4x5x5x2xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op padding 2 in dimension 2 must be between 0 and half of kernel 3}}
  %y = vidnet.max_pool %x kernel [1, 3, 3] strides [1, 2, 2] padding [0, 2, 1]
      : tensor<1x4x8x8x2xf32> -> tensor<1x4x5x5x2xf32>
  return %y : tensor<1x4x5x5x2xf32>
}

// -----

// Tests that padding may not be negative.
func.func @pad_negative(%x: tensor<1x4x8x8x2xf32>) -> tensor<1x4x4x4x2xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op padding -1 in dimension 1 must be between 0 and half of kernel 1}}
  %y = vidnet.max_pool %x kernel [1, 3, 3] strides [1, 2, 2] padding [-1, 1, 1]
      : tensor<1x4x8x8x2xf32> -> tensor<1x4x4x4x2xf32>
  return %y : tensor<1x4x4x4x2xf32>
}

// -----

// Tests that the stride must be positive.
func.func @stride_zero(%x: tensor<1x4x8x8x2xf32>) -> tensor<1x4x4x4x2xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op kernel and stride must be positive, got kernel 3 and stride 0 in dimension 3}}
  %y = vidnet.max_pool %x kernel [1, 3, 3] strides [1, 2, 0] padding [0, 1, 1]
      : tensor<1x4x8x8x2xf32> -> tensor<1x4x4x4x2xf32>
  return %y : tensor<1x4x4x4x2xf32>
}

// -----

// Tests that the kernel must be positive.
func.func @kernel_zero(%x: tensor<1x4x8x8x2xf32>) -> tensor<1x4x4x4x2xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op kernel and stride must be positive, got kernel 0 and stride 1 in dimension 1}}
  %y = vidnet.max_pool %x kernel [0, 3, 3] strides [1, 2, 2] padding [0, 1, 1]
      : tensor<1x4x8x8x2xf32> -> tensor<1x4x4x4x2xf32>
  return %y : tensor<1x4x4x4x2xf32>
}

// -----

// Tests that kernel, strides and padding need three values each.
func.func @two_values(%x: tensor<1x4x8x8x2xf32>) -> tensor<1x4x4x4x2xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op kernel, strides and padding need 3 values (D, H, W), got 2, 3 and 3}}
  %y = vidnet.max_pool %x kernel [3, 3] strides [1, 2, 2] padding [0, 1, 1]
      : tensor<1x4x8x8x2xf32> -> tensor<1x4x4x4x2xf32>
  return %y : tensor<1x4x4x4x2xf32>
}

// -----

// Tests that pooling keeps the channels.
func.func @channels(%x: tensor<1x4x8x8x2xf32>) -> tensor<1x4x4x4x3xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op result shape 1x4x4x4x3 must keep the batch and channels of input 1x4x8x8x2}}
  %y = vidnet.max_pool %x kernel [1, 3, 3] strides [1, 2, 2] padding [0, 1, 1]
      : tensor<1x4x8x8x2xf32> -> tensor<1x4x4x4x3xf32>
  return %y : tensor<1x4x4x4x3xf32>
}

// -----

// Tests that a kernel larger than the padded input is rejected (2 + 0 < 3 in D).
func.func @too_small(%x: tensor<1x2x8x8x2xf32>) -> tensor<1x1x4x4x2xf32> {
  // expected-error @+1 {{'vidnet.max_pool' op kernel 3 with padding 0 does not fit input extent 2 in dimension 1}}
  %y = vidnet.max_pool %x kernel [3, 3, 3] strides [1, 2, 2] padding [0, 1, 1]
      : tensor<1x2x8x8x2xf32> -> tensor<1x1x4x4x2xf32>
  return %y : tensor<1x1x4x4x2xf32>
}

// -----

// Tests that max_pool_backward's dy must have the shape of the forward's result for input x:
// 7 pooled by kernel 2, stride 2, padding 1 is 4, not 3.
func.func @backward_extent(%dy: tensor<1x1x3x4x8xf32>, %x: tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32> {
  // expected-error @+1 {{'vidnet.max_pool_backward' op result shape 1x1x3x4x8 does not match input 1x2x7x7x8 pooled with kernel 2x2x2: expected extent 4 in dimension 2}}
  %dx = vidnet.max_pool_backward %dy, %x kernel [2, 2, 2] strides [2, 2, 2] padding [0, 1, 1]
      : (tensor<1x1x3x4x8xf32>, tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32>
  return %dx : tensor<1x2x7x7x8xf32>
}

// -----

// Tests that max_pool_backward's result is shaped like the forward's input.
func.func @backward_result(%dy: tensor<1x1x4x4x8xf32>, %x: tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x8x8xf32> {
  // expected-error @+1 {{'vidnet.max_pool_backward' op failed to verify that all of {input, input_grad} have same type}}
  %dx = vidnet.max_pool_backward %dy, %x kernel [2, 2, 2] strides [2, 2, 2] padding [0, 1, 1]
      : (tensor<1x1x4x4x8xf32>, tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x8x8xf32>
  return %dx : tensor<1x2x7x8x8xf32>
}

// -----

// Tests that max_pool_backward checks the padding rule as the forward does.
func.func @backward_pad(%dy: tensor<1x2x4x4x8xf32>, %x: tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32> {
  // expected-error @+1 {{'vidnet.max_pool_backward' op padding 1 in dimension 1 must be between 0 and half of kernel 1}}
  %dx = vidnet.max_pool_backward %dy, %x kernel [1, 2, 2] strides [1, 2, 2] padding [1, 1, 1]
      : (tensor<1x2x4x4x8xf32>, tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32>
  return %dx : tensor<1x2x7x7x8xf32>
}
