// The `vidnet` dialect: tensor-level ops for video CNNs on channels-last f32 tensors.
#ifndef VIDNET_DIALECT_TD
#define VIDNET_DIALECT_TD

include "mlir/IR/OpBase.td"

def Vidnet_Dialect : Dialect {
  let name = "vidnet";
  let summary = "Tensor-level operations of spatiotemporal video CNNs";
  let description = [{
    Value-semantics ops on f32 tensors in channels-last layout: activations are
    N x D x H x W x C (D = frames) and convolution filters are Kd x Kh x Kw x C/groups x F,
    the layout `linalg.conv_3d_ndhwc_dhwcf` takes. Every op carries the location of the
    spec line it came from, so a verifier or pass error names the line of the `.vnet` file.
  }];
  let cppNamespace = "::vidnet";
}

class Vidnet_Op<string mnemonic, list<Trait> traits = []>
    : Op<Vidnet_Dialect, mnemonic, traits>;

#endif // VIDNET_DIALECT_TD
