// Operations of the `vidnet` dialect. Shapes are checked by the verifiers (VidnetOps.cpp).
#ifndef VIDNET_OPS_TD
#define VIDNET_OPS_TD

include "dialects/vidnet/VidnetDialect.td"
include "dialects/vidnet/VidnetInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def F32Tensor5D : TensorRankOf<[F32], [5]>;

def Vidnet_ConvOp : Vidnet_Op<"conv", [Pure, DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>]> {
  let summary = "3-d convolution (2D and 1D as unit kernel extents), no bias";
  let description = [{
    out[n, od, oh, ow, g*F/G + f] = sum over kd, kh, kw, c of
      in[n, od*sd + kd - pd, oh*sh + kh - ph, ow*sw + kw - pw, g*C/G + c] * filter[kd, kh, kw, c, g*F/G + f]
    with zero padding `padding` on both sides of each of D, H, W and output extent
    floor((in + 2 pad - kernel) / stride) + 1 (PyTorch's arithmetic).

    ```mlir
    %y = vidnet.conv %x, %w strides [1, 2, 2] padding [1, 3, 3] groups 1
        : tensor<2x16x112x112x3xf32>, tensor<3x7x7x3x64xf32> -> tensor<2x16x56x56x64xf32>
    ```
  }];
  let arguments = (ins F32Tensor5D:$input, F32Tensor5D:$filter, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding, ConfinedAttr<I64Attr, [IntPositive]>:$groups);
  let results = (outs F32Tensor5D:$output);
  let assemblyFormat = [{
    $input `,` $filter `strides` $strides `padding` $padding `groups` $groups attr-dict
    `:` type($input) `,` type($filter) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Vidnet_Conv2Plus1dOp : Vidnet_Op<"conv2plus1d", [Pure,
    AllTypesMatch<["gamma", "beta", "running_mean", "running_var"]>]> {
  let summary = "(2+1)D convolution: 1xdxd to `mid` channels, BN, ReLU, tx1x1";
  let description = [{
    Tran et al.'s factorized convolution as one op, so that the spec's M_i (`mid`) is visible
    in the IR. `vidnet-decompose-2plus1d` rewrites it into conv, batch_norm, relu, conv: the
    spatial conv takes the H and W strides and paddings, the temporal conv the D ones.
    The inner batch norm uses running statistics (inference form).

    ```mlir
    %y = vidnet.conv2plus1d %x, %ws, %gamma, %beta, %mean, %var, %wt mid 230
        strides [2, 2, 2] padding [1, 1, 1] epsilon 1.0e-05 : ...
    ```
  }];
  let arguments = (ins F32Tensor5D:$input, F32Tensor5D:$spatial_filter,
                       1DTensorOf<[F32]>:$gamma, 1DTensorOf<[F32]>:$beta,
                       1DTensorOf<[F32]>:$running_mean, 1DTensorOf<[F32]>:$running_var,
                       F32Tensor5D:$temporal_filter,
                       ConfinedAttr<I64Attr, [IntPositive]>:$mid, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding, F32Attr:$epsilon);
  let results = (outs F32Tensor5D:$output);
  let assemblyFormat = [{
    $input `,` $spatial_filter `,` $gamma `,` $beta `,` $running_mean `,` $running_var `,`
    $temporal_filter `mid` $mid `strides` $strides `padding` $padding `epsilon` $epsilon attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vidnet_BatchNormOp : Vidnet_Op<"batch_norm", [Pure, AllTypesMatch<["input", "output"]>,
    DeclareOpInterfaceMethods<Vidnet_TrainingFormOpInterface>,
    AllTypesMatch<["gamma", "beta", "running_mean", "running_var"]>]> {
  let summary = "batch normalization with running statistics (inference form)";
  let description = [{
    y = (x - running_mean[c]) / sqrt(running_var[c] + epsilon) * gamma[c] + beta[c]
    over the last (channel) dimension.
  }];
  let arguments = (ins AnyRankedTensor:$input, 1DTensorOf<[F32]>:$gamma, 1DTensorOf<[F32]>:$beta,
                       1DTensorOf<[F32]>:$running_mean, 1DTensorOf<[F32]>:$running_var,
                       F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `,` $running_mean `,` $running_var `epsilon` $epsilon attr-dict
    `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Vidnet_BatchNormTrainOp : Vidnet_Op<"batch_norm_train", [Pure, AllTypesMatch<["input", "output"]>,
    DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>,
    AllTypesMatch<["gamma", "beta", "batch_mean", "batch_var"]>]> {
  let summary = "batch normalization with batch statistics (training form)";
  let description = [{
    Normalizes with the mean and biased variance over all but the channel dimension and also
    returns them, for the running-statistics update (PyTorch stores the unbiased variance in
    running_var: var * n / (n - 1), momentum 0.1) and for the backward pass.
  }];
  let arguments = (ins AnyRankedTensor:$input, 1DTensorOf<[F32]>:$gamma, 1DTensorOf<[F32]>:$beta,
                       F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$output, 1DTensorOf<[F32]>:$batch_mean,
                      1DTensorOf<[F32]>:$batch_var);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `epsilon` $epsilon attr-dict
    `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Vidnet_ReluOp : Vidnet_Op<"relu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>]> {
  let summary = "max(x, 0) elementwise";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Vidnet_AddOp : Vidnet_Op<"add", [Pure, SameOperandsAndResultType, Commutative,
    DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>]> {
  let summary = "elementwise sum (the residual connection)";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

def Vidnet_MaxPoolOp : Vidnet_Op<"max_pool", [Pure, DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>]> {
  let summary = "3-d max pooling over D, H, W, per channel (PyTorch's max_pool3d, floor mode)";
  let description = [{
    out[n, od, oh, ow, c] = max over kd, kh, kw of
      in[n, od*sd + kd - pd, oh*sh + kh - ph, ow*sw + kw - pw, c]
    with padding that counts as -inf, 0 <= pad <= kernel / 2 (so every window holds an input
    element) and output extent floor((in + 2 pad - kernel) / stride) + 1.

    ```mlir
    %y = vidnet.max_pool %x kernel [1, 3, 3] strides [1, 2, 2] padding [0, 1, 1]
        : tensor<2x8x56x56x64xf32> -> tensor<2x8x28x28x64xf32>
    ```
  }];
  let arguments = (ins F32Tensor5D:$input, DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding);
  let results = (outs F32Tensor5D:$output);
  let assemblyFormat = [{
    $input `kernel` $kernel `strides` $strides `padding` $padding attr-dict
    `:` type($input) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Vidnet_FoldTimeOp : Vidnet_Op<"fold_time", [Pure, DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>]> {
  let summary = "R2D: N x D x H x W x C -> N x 1 x H x W x (D*C), frame-major channels";
  let arguments = (ins F32Tensor5D:$input);
  let results = (outs F32Tensor5D:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Vidnet_GlobalAvgPoolOp : Vidnet_Op<"global_avg_pool", [Pure, DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>]> {
  let summary = "mean over D, H, W: N x D x H x W x C -> N x C";
  let arguments = (ins F32Tensor5D:$input);
  let results = (outs 2DTensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Vidnet_DenseOp : Vidnet_Op<"dense", [Pure, DeclareOpInterfaceMethods<Vidnet_DifferentiableOpInterface>]> {
  let summary = "fully connected layer with bias: N x C times C x K plus K -> N x K";
  let arguments = (ins 2DTensorOf<[F32]>:$input, 2DTensorOf<[F32]>:$weight,
                       1DTensorOf<[F32]>:$bias);
  let results = (outs 2DTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vidnet_SoftmaxCrossEntropyOp : Vidnet_Op<"softmax_cross_entropy", [Pure]> {
  let summary = "mean over the batch of -log softmax(logits)[label]";
  let arguments = (ins 2DTensorOf<[F32]>:$logits, 1DTensorOf<[I64]>:$labels);
  let results = (outs 0DTensorOf<[F32]>:$loss);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Backward and optimizer ops: what `vidnet-derive-train-step` emits. Each is the VJP of one
// forward op (or one PyTorch optimizer formula), so the generated backward reads like the
// forward in reverse and every rule has one lowering. The rules that emit them are the
// forward ops' DifferentiableOpInterface methods (VidnetGradients.cpp).
//===----------------------------------------------------------------------===//

def Vidnet_ConvBackwardDataOp : Vidnet_Op<"conv_backward_data", [Pure]> {
  let summary = "input gradient of vidnet.conv: the transposed convolution of dy";
  let description = [{
    dx[n, i, c] = sum over (o, k) with o*s + k - p = i of dy[n, o, f] * filter[k, c, f]
    (per spatial dimension), for the conv with the same strides, padding and groups whose
    input has dx's shape (with groups G, c indexes the filter's C/G channels of f's group).
  }];
  let arguments = (ins F32Tensor5D:$output_grad, F32Tensor5D:$filter, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding, ConfinedAttr<I64Attr, [IntPositive]>:$groups);
  let results = (outs F32Tensor5D:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $filter `strides` $strides `padding` $padding `groups` $groups attr-dict
    `:` type($output_grad) `,` type($filter) `->` type($input_grad)
  }];
  let hasVerifier = 1;
}

def Vidnet_ConvBackwardFilterOp : Vidnet_Op<"conv_backward_filter", [Pure]> {
  let summary = "filter gradient of vidnet.conv";
  let description = [{
    dfilter[k, c, f] = sum over n, o of x_padded[n, o*s + k, c] * dy[n, o, f]; with groups G,
    output channel f reads input channel c of its group, (f / (F/G)) * C/G + c.
  }];
  let arguments = (ins F32Tensor5D:$input, F32Tensor5D:$output_grad, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding, ConfinedAttr<I64Attr, [IntPositive]>:$groups);
  let results = (outs F32Tensor5D:$filter_grad);
  let assemblyFormat = [{
    $input `,` $output_grad `strides` $strides `padding` $padding `groups` $groups attr-dict
    `:` type($input) `,` type($output_grad) `->` type($filter_grad)
  }];
  let hasVerifier = 1;
}

def Vidnet_BatchNormTrainBackwardOp : Vidnet_Op<"batch_norm_train_backward", [Pure,
    AllTypesMatch<["output_grad", "input", "input_grad"]>,
    AllTypesMatch<["batch_mean", "batch_var", "gamma", "gamma_grad", "beta_grad"]>]> {
  let summary = "VJP of vidnet.batch_norm_train (batch statistics are functions of the input)";
  let description = [{
    With xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps) and M elements per channel:
    dbeta = sum dy, dgamma = sum dy * xhat,
    dx = gamma * rstd * (dy - dbeta / M - xhat * dgamma / M).
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$output_grad, RankedTensorOf<[F32]>:$input,
                       1DTensorOf<[F32]>:$batch_mean, 1DTensorOf<[F32]>:$batch_var,
                       1DTensorOf<[F32]>:$gamma, F32Attr:$epsilon);
  let results = (outs RankedTensorOf<[F32]>:$input_grad, 1DTensorOf<[F32]>:$gamma_grad,
                      1DTensorOf<[F32]>:$beta_grad);
  let assemblyFormat = [{
    $output_grad `,` $input `,` $batch_mean `,` $batch_var `,` $gamma `epsilon` $epsilon attr-dict
    `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

def Vidnet_ReluBackwardOp : Vidnet_Op<"relu_backward", [Pure, SameOperandsAndResultType]> {
  let summary = "dy where the ReLU's output is positive, else 0 (PyTorch's threshold_backward)";
  let arguments = (ins RankedTensorOf<[F32]>:$output_grad, RankedTensorOf<[F32]>:$output);
  let results = (outs RankedTensorOf<[F32]>:$input_grad);
  let assemblyFormat = "$output_grad `,` $output attr-dict `:` type($output)";
}

def Vidnet_GlobalAvgPoolBackwardOp : Vidnet_Op<"global_avg_pool_backward", [Pure]> {
  let summary = "dy[n, c] / (D H W) broadcast over N x D x H x W x C";
  let arguments = (ins 2DTensorOf<[F32]>:$output_grad);
  let results = (outs F32Tensor5D:$input_grad);
  let assemblyFormat = "$output_grad attr-dict `:` type($output_grad) `->` type($input_grad)";
  let hasVerifier = 1;
}

def Vidnet_MaxPoolBackwardOp : Vidnet_Op<"max_pool_backward", [Pure,
    AllTypesMatch<["input", "input_grad"]>]> {
  let summary = "input gradient of vidnet.max_pool (PyTorch's max_pool3d backward)";
  let description = [{
    Each output's gradient goes to the first maximum of its window (row-major over kd, kh, kw;
    padding counts as -inf); where windows overlap, the gradients they route to one input add.
    `input` is the forward's input, `output_grad` has the forward's result shape.

    ```mlir
    %dx = vidnet.max_pool_backward %dy, %x kernel [2, 2, 2] strides [2, 2, 2] padding [0, 1, 1]
        : (tensor<1x1x4x4x8xf32>, tensor<1x2x7x7x8xf32>) -> tensor<1x2x7x7x8xf32>
    ```
  }];
  let arguments = (ins F32Tensor5D:$output_grad, F32Tensor5D:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding);
  let results = (outs F32Tensor5D:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $input `kernel` $kernel `strides` $strides `padding` $padding attr-dict
    `:` `(` type($output_grad) `,` type($input) `)` `->` type($input_grad)
  }];
  let hasVerifier = 1;
}

def Vidnet_UnfoldTimeOp : Vidnet_Op<"unfold_time", [Pure]> {
  let summary = "inverse of fold_time: N x 1 x H x W x (D*C) -> N x D x H x W x C";
  let arguments = (ins F32Tensor5D:$input);
  let results = (outs F32Tensor5D:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Vidnet_DenseBackwardOp : Vidnet_Op<"dense_backward", [Pure]> {
  let summary = "VJP of vidnet.dense: dx = dy W^T, dW = x^T dy, dbias = sum over n of dy";
  let arguments = (ins 2DTensorOf<[F32]>:$output_grad, 2DTensorOf<[F32]>:$input,
                       2DTensorOf<[F32]>:$weight);
  let results = (outs 2DTensorOf<[F32]>:$input_grad, 2DTensorOf<[F32]>:$weight_grad,
                      1DTensorOf<[F32]>:$bias_grad);
  let assemblyFormat = [{
    $output_grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vidnet_SoftmaxCrossEntropyBackwardOp : Vidnet_Op<"softmax_cross_entropy_backward", [Pure]> {
  let summary = "gradient of the mean cross-entropy: (softmax(logits) - onehot(label)) / N";
  let arguments = (ins 2DTensorOf<[F32]>:$logits, 1DTensorOf<[I64]>:$labels);
  let results = (outs 2DTensorOf<[F32]>:$logits_grad);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Vidnet_SgdUpdateOp : Vidnet_Op<"sgd_update", [Pure,
    AllTypesMatch<["param", "grad", "momentum_buffer", "new_param", "new_momentum_buffer"]>]> {
  let summary = "one step of torch.optim.SGD (momentum, weight decay, no dampening or Nesterov)";
  let description = [{
    `hyper` holds (lr, momentum, weight_decay). d = g + wd * w; buf' = momentum * buf + d;
    w' = w - lr * buf'. A zero buffer makes the first step buf' = d, as in PyTorch.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$param, RankedTensorOf<[F32]>:$grad,
                       RankedTensorOf<[F32]>:$momentum_buffer, 1DTensorOf<[F32]>:$hyper);
  let results = (outs RankedTensorOf<[F32]>:$new_param, RankedTensorOf<[F32]>:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad `,` $momentum_buffer `,` $hyper attr-dict `:` type($param) `,` type($hyper)
  }];
  let hasVerifier = 1;
}

def Vidnet_RunningStatsUpdateOp : Vidnet_Op<"running_stats_update", [Pure,
    AllTypesMatch<["running_mean", "running_var", "batch_mean", "batch_var", "new_running_mean",
                   "new_running_var"]>]> {
  let summary = "BN running statistics as PyTorch updates them in training mode";
  let description = [{
    mean' = (1 - momentum) * mean + momentum * batch_mean;
    var' = (1 - momentum) * var + momentum * batch_var * count / (count - 1) (the unbiased
    variance; `count` is the number of elements per channel).
  }];
  let arguments = (ins 1DTensorOf<[F32]>:$running_mean, 1DTensorOf<[F32]>:$running_var,
                       1DTensorOf<[F32]>:$batch_mean, 1DTensorOf<[F32]>:$batch_var,
                       F32Attr:$momentum, ConfinedAttr<I64Attr, [IntPositive]>:$count);
  let results = (outs 1DTensorOf<[F32]>:$new_running_mean, 1DTensorOf<[F32]>:$new_running_var);
  let assemblyFormat = [{
    $running_mean `,` $running_var `,` $batch_mean `,` $batch_var `momentum` $momentum `count` $count
    attr-dict `:` type($running_mean)
  }];
}

#endif // VIDNET_OPS_TD
