// Target-independent passes on the `vidnet` dialect. One pass per file, each with a lit test
// of the same name under test/lit/transforms/.
#ifndef VIDNET_PASSES_TD
#define VIDNET_PASSES_TD

include "mlir/Pass/PassBase.td"

def Decompose2Plus1d : Pass<"vidnet-decompose-2plus1d", "mlir::func::FuncOp"> {
  let summary = "Rewrite each vidnet.conv2plus1d into conv, batch_norm, relu, conv";
  let description = [{
    The spatial 1 x d x d conv takes the H and W strides and paddings, the temporal
    t x 1 x 1 conv the D ones (Tran et al. Sec. 3.5: "the striding is correspondingly
    decomposed into its spatial or temporal dimensions").

    Before:
    ```mlir
    %y = vidnet.conv2plus1d %x, %ws, %g, %b, %m, %v, %wt mid 230 strides [2, 2, 2]
        padding [1, 1, 1] epsilon 1.0e-05 : (...) -> tensor<1x8x28x28x128xf32>
    ```
    After:
    ```mlir
    %s = vidnet.conv %x, %ws strides [1, 2, 2] padding [0, 1, 1] groups 1 : ... -> tensor<1x16x28x28x230xf32>
    %n = vidnet.batch_norm %s, %g, %b, %m, %v epsilon 1.0e-05 : ...
    %r = vidnet.relu %n : tensor<1x16x28x28x230xf32>
    %y = vidnet.conv %r, %wt strides [2, 1, 1] padding [1, 0, 0] groups 1 : ... -> tensor<1x8x28x28x128xf32>
    ```
  }];
  let dependentDialects = ["vidnet::VidnetDialect"];
}

def DeriveTrainStep : Pass<"vidnet-derive-train-step", "mlir::ModuleOp"> {
  let summary = "Derive `train_step` (forward, loss, backward, SGD) from `forward`";
  let description = [{
    Adds `func.func @train_step` beside `@forward`:
    1. the forward again, each op in its training form where it has one
       (TrainingFormOpInterface): vidnet.batch_norm becomes vidnet.batch_norm_train (batch
       statistics, as PyTorch's model.train()) followed by the vidnet.running_stats_update of
       its running statistics (momentum 0.1, unbiased variance), as PyTorch updates them
       during the forward;
    2. the loss, vidnet.softmax_cross_entropy of the logits and the labels;
    3. the backward: starting from vidnet.softmax_cross_entropy_backward, the VJP rule of
       each forward op (DifferentiableOpInterface), visited in reverse order; a value used
       twice (the residual input) gets the vidnet.add of its cotangents. Inputs that need no
       gradient (the clips, the BN statistics) get none, so the first conv has no
       data-gradient. An op without a rule on the path to the loss is an error that names
       it and its spec line;
    4. vidnet.sgd_update for every trainable argument.

    Signature: (clips, labels: tensor<N x i64>, every argument of forward after the clips,
    one momentum buffer per trainable argument, hyper: tensor<3xf32> = (lr, momentum,
    weight decay)) -> (the new value of each forward argument after the clips, in order;
    the new momentum buffers; the loss; the logits before the update). Runs after
    vidnet-decompose-2plus1d.
  }];
  let options = [
    Option<"keepForward", "keep-forward", "bool", /*default=*/"true",
           "Keep @forward in the module (false: only @train_step remains)">
  ];
  let dependentDialects = ["vidnet::VidnetDialect"];
}

def LowerToLinalg : Pass<"vidnet-lower-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower vidnet ops to linalg on tensors";
  let description = [{
    Named linalg ops where one fits, linalg.generic otherwise:
    - conv (groups = 1): tensor.pad with zeros, then linalg.conv_3d_ndhwc_dhwcf with the
      strides into a zero-filled init;
    - dense: the bias broadcast into the init, then linalg.matmul accumulates onto it;
    - batch_norm, relu, add: one elementwise linalg.generic each (fusion comes later);
    - batch_norm_train: reductions for the batch mean and biased variance, then the
      elementwise normalization;
    - global_avg_pool: a sum reduction over D, H, W and a scale by 1 / (D H W);
    - fold_time: linalg.transpose to N x H x W x D x C, then collapse and expand shapes;
    - softmax_cross_entropy: max, sum of exp, and the picked logit per row (max-subtracted,
      so it is stable), then the mean of log-sum-exp minus the picked logit.
    - the backward ops: conv_backward_data as one stride-1 linalg.conv_3d_ndhwc_dhwcf per
      output phase (s_d s_h s_w of them), each of the part of dy that phase reads against that
      phase's taps of the flipped filter, inserted into dx with the strides (no zero
      insertion); conv_backward_filter as
      an scf.for nest over the filter taps, each a matmul over the output positions written
      as a 1x1x1 linalg.conv_3d_ndhwc_dhwcf (so targets tile it like the forward's convs); the BN, dense and
      loss VJPs as reductions and elementwise generics; sgd_update as one generic with two
      results (parameter and momentum buffer).
    - grouped convs (groups > 1) and both their gradients: one linalg.generic each over
      channels split into (group, channel in group), the data gradient over dy spread with
      the strides into zeros against the flipped filter; depthwise ones (C/groups = 1) with
      the channel as the innermost loop (LowerGroupedConvolutions.cpp).
    One conversion pattern per op, by family (compiler/transforms/Lower*.cpp); the target
    makes the whole vidnet dialect illegal. conv2plus1d must have been decomposed first
    (vidnet-decompose-2plus1d).

    Before:
    ```mlir
    %y = vidnet.relu %x : tensor<1x4x8x8x16xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<1x4x8x8x16xf32>
    %y = linalg.generic {...} ins(%x : ...) outs(%e : ...) { arith.maximumf }
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect", "mlir::scf::SCFDialect"];
}

def ExportAbi : Pass<"vidnet-export-abi", "mlir::ModuleOp"> {
  let summary = "Give `forward` the flat, caller-owned C ABI of a bundle's entry point";
  let description = [{
    Rewrites the tensor-form `func.func @forward(%clips, %params...) -> logits` in place into
    `func.func @vidnet_forward(%clips: memref<N x D x H x W x C>, %params: memref<P>,
    %state: memref<S>, %logits: memref<N x K>)`, destination-passing: the caller owns every
    buffer, and with the bare-pointer calling convention the C signature is

        void vidnet_forward(const float *clips, const float *params, const float *state,
                            float *logits);

    Each parameter becomes a `memref.reinterpret_cast` view at its offset in %params (BN
    running statistics in %state), as laid out by BufferLayout (64-byte aligned, argument
    order), wrapped by `bufferization.to_tensor restrict`; the result is written with
    `bufferization.materialize_in_destination` into %logits. The bundle manifest records
    the same offsets.

    `train_step` (from vidnet-derive-train-step) becomes

        void vidnet_train_step(const float *clips, const int64_t *labels, const float *params,
                               const float *state, const float *momentum, const float *hyper,
                               float *new_params, float *new_state, float *new_momentum,
                               float *loss, float *logits);

    with the same layout in the old and new buffers (momentum buffers at their parameter's
    offset): the runtime swaps the buffers after a step. Functions not present are skipped.

    When the module has `@forward_prepare` (the CPU target's vidnet-cpu-hoist-weight-packing),
    forward's trailing `vidnet.prepared` arguments are read from a fourth buffer, after the
    state, laid out like the others in argument order:

        void vidnet_forward(const float *clips, const float *params, const float *state,
                            const float *prepared, float *logits[, float *features]);
        void vidnet_forward_prepare(const float *params, const float *state, float *prepared);
        int64_t vidnet_forward_prepared_elements(void);

    Before:
    ```mlir
    func.func @forward(%x: tensor<1x4x8x8x3xf32>, %w: tensor<3x3x3x3x8xf32> {vidnet.name = "stem.0.weight"}) -> tensor<1x5xf32>
    ```
    After:
    ```mlir
    func.func @vidnet_forward(%x: memref<1x4x8x8x3xf32>, %p: memref<656xf32>, %s: memref<0xf32>, %y: memref<1x5xf32>)
      %w = memref.reinterpret_cast %p to offset: [0], sizes: [3, 3, 3, 3, 8], strides: [...]
    ```
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

def MemrefCopyToLinalg : Pass<"vidnet-memref-copy-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Rewrite memref.copy as linalg.copy, so bundles need no MLIR runtime library";
  let description = [{
    Bufferizing tensor.pad and insert_slice copies into strided subviews with memref.copy,
    which finalize-memref-to-llvm lowers to a call to `memrefCopy` from
    libmlir_c_runner_utils: a bundle's shared object would then not load on its own.
    linalg.copy lowers to plain loops (and vectorizes with the rest). A copy between two
    identical subviews of one buffer, which one-shot-bufferize writes for an insert_slice of
    a value computed in place in its destination, is dropped (with the views it leaves
    unused): R(2+1)D-18's train_step had 412 such copies of whole activations.

    Before: `memref.copy %a, %b : memref<4x4xf32> to memref<4x4xf32, strided<[6, 1], offset: 7>>`
    After:  `linalg.copy ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32, strided<[6, 1], offset: 7>>)`
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def FreeBuffers : Pass<"vidnet-free-buffers", "mlir::func::FuncOp"> {
  let summary = "Free each buffer one-shot-bufferize allocated right after its last use";
  let description = [{
    What upstream's `buffer-deallocation-pipeline` does for vidnet's bufferized functions, in
    one walk: their buffers are all allocated in the function's single block and never leave
    it (entry points return nothing). Each memref.alloc gets a memref.dealloc after the op of
    that block that holds the last use of the buffer or of a value that may alias it: a view
    (subview, expand_shape, collapse_shape, cast, reinterpret_cast), a loop's iteration
    argument and result it initializes, the result of an scf.for or scf.if that yields it.
    An unused alloc is erased. On R(2+1)D-18's train_step the upstream pipeline took 0.9 s
    (ownership analysis, three canonicalizes, a CSE) for the same placement; a buffer this
    pass cannot place (an alloc inside a region, a view that escapes through a call, a
    return or an op it does not know) is an error, never a leak.

    Before:
    ```mlir
    %a = memref.alloc() : memref<8xf32>
    linalg.fill ins(%c : f32) outs(%a : memref<8xf32>)
    linalg.copy ins(%a : memref<8xf32>) outs(%out : memref<8xf32>)
    return
    ```
    After: `memref.dealloc %a : memref<8xf32>` between the copy and the return.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def ElideFills : Pass<"vidnet-elide-fills", "mlir::func::FuncOp"> {
  let summary = "Drop the zero fills that strided data gradients' inserted phases make needless";
  let description = [{
    The data gradient of a conv with stride s is s_d s_h s_w phases, each a stride-1 conv,
    inserted with stride s into a zero-filled dx (vidnet-lower-to-linalg). Two rewrites:

    - A fill that a chain of insert_slices then overwrites element for element (the slices
      disjoint, their sizes summing to the tensor's) is replaced by its init, a tensor.empty:
      every 3x3x3 /2x2x2 data gradient (r3d_18 at batch 2: 12.8 + 3.2 + 0.8 MB per step).
    - An elementwise add of a slice inserted into zeros and another tensor with no other use
      adds only the slice, into that tensor's slice in place: a 1x1x1 shortcut conv at stride 2
      reaches an eighth of dx, which the backward adds to the main path's dx (the same 12.8 +
      3.2 + 0.8 MB filled, then read once more). Outside the slice the result is the other
      addend's bits (0 + y is y, but for y = -0, which the zeros turned into +0).

    Before (the add):
    ```mlir
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x8x8x4xf32>) -> tensor<2x8x8x8x4xf32>
    %a = tensor.insert_slice %s into %z[0, 0, 0, 0, 0] [2, 4, 4, 4, 4] [1, 2, 2, 2, 1] : ...
    %r = linalg.generic {...} ins(%a, %y : ...) outs(%e : ...) { addf }
    ```
    After:
    ```mlir
    %ys = tensor.extract_slice %y[0, 0, 0, 0, 0] [2, 4, 4, 4, 4] [1, 2, 2, 2, 1] : ...
    %t = linalg.generic {...} ins(%s, %ys : ...) outs(%e2 : tensor<2x4x4x4x4xf32>) { addf }
    %r = tensor.insert_slice %t into %y[0, 0, 0, 0, 0] [2, 4, 4, 4, 4] [1, 2, 2, 2, 1] : ...
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def FuseElementwise : Pass<"vidnet-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg.generic producers into consumers without recomputation";
  let description = [{
    Upstream's elementwise fusion patterns, with a control that fuses a producer only when
    it has one use and the consumer runs no more loops than the producer. Upstream
    `linalg-fuse-elementwise-ops` would also fuse an elementwise producer into a reduction
    with more loops, recomputing it once per extra iteration: in the backward, the
    gradient feeding a conv's filter-gradient reduction (9 loops over a 5-d tensor) would
    be recomputed once per filter tap and input channel.

    Fused: BN + ReLU (+ residual add) in the forward; ReLU-backward into its consumer.
    Not fused: anything into vidnet.conv_backward_filter's reduction.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

#endif // VIDNET_PASSES_TD
