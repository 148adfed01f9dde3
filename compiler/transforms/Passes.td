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

#endif // VIDNET_PASSES_TD
