// The elaborated model: every layer (conv, BN, ReLU, add, pool, fc) with its output shape,
// parameter tensors, parameter count and multiply-accumulates. Targets start from here.
#pragma once

#include "common/OpArithmetic.h"
#include "dsl/SourceFile.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vidnet {

// Per-clip activation shape in PyTorch order: channels, frames (L), height, width.
struct Shape {
  int64_t c = 0, l = 0, h = 0, w = 0;
  friend bool operator==(const Shape &, const Shape &) = default;
};

// A (time, height, width) triple: kernel extents, strides or paddings.
struct Dims3 {
  int64_t t = 1, h = 1, w = 1;
  friend bool operator==(const Dims3 &, const Dims3 &) = default;
};

enum class LayerKind {
  FoldTime,     // R2D: C x L x H x W -> (L*C) x 1 x H x W, frame-major channels (l*C + c)
  Conv,         // N-d convolution, no bias (every conv is followed by BN); grouped when groups > 1
  Conv2Plus1d,  // spatial 1xdxd conv to `mid` channels, BN, ReLU, temporal tx1x1 conv
  BatchNorm,
  ReLU,
  Add,          // residual sum of `inputs[0]` and `inputs[1]`
  MaxPool,      // kernel, stride, pad; floor mode, padding never chosen (PyTorch's MaxPool3d)
  GlobalAvgPool,
  Linear,       // the classifier, with bias
};
std::string_view layerKindName(LayerKind kind);

// "64x16x56x56" and "1x2x2": the forms used in tables and diagnostics.
std::string toString(const Shape &shape);
std::string toString(const Dims3 &dims);

// How torchvision's VideoResNet initializes a tensor: convs kaiming_normal_(mode="fan_out",
// nonlinearity="relu"), BN weight 1 and bias 0, fc weight N(0, 0.01) and bias 0; running
// statistics start at mean 0, variance 1.
enum class TensorInit { KaimingNormalFanOut, Normal001, Zeros, Ones };
std::string_view tensorInitName(TensorInit init);

// What a tensor is to its layer. A layer has at most one tensor of each role, so code reads a
// layer's tensors by role (Layer::tensor), never by position.
enum class TensorRole {
  ConvWeight,      // Conv
  SpatialWeight,   // Conv2Plus1d: the 1 x d x d conv to `mid` channels
  TemporalWeight,  // Conv2Plus1d: the t x 1 x 1 conv
  BnGamma,         // BatchNorm, and Conv2Plus1d's inner BN
  BnBeta,
  BnRunningMean,
  BnRunningVar,
  BnNumBatchesTracked,
  LinearWeight,
  LinearBias,
};
std::string_view tensorRoleName(TensorRole role);

// A parameter or state tensor with torchvision's state_dict name and PyTorch's layout
// (conv weight O x I x T x H x W, fc weight O x I). Made by makeTensor, which derives the
// initializer, trainability and dtype from the role.
struct TensorInfo {
  std::string name;
  TensorRole role;
  std::vector<int64_t> shape;
  TensorInit init;
  bool trainable = true;  // false for BN running statistics
  bool isInteger = false; // num_batches_tracked is int64 in PyTorch
};
TensorInfo makeTensor(std::string name, TensorRole role, std::vector<int64_t> shape);

struct Layer {
  std::string name;
  LayerKind kind;
  dsl::Loc loc;             // the spec line this layer came from
  std::vector<int> inputs;  // indices into ModelGraph::layers; -1 is the model input
  Shape output;

  // Conv, Conv2Plus1d and Linear; kernel, stride and pad also MaxPool's.
  int64_t inChannels = 0, outChannels = 0;
  Dims3 kernel, stride, pad;  // Conv2Plus1d: kernel t x d x d, split as described above
  int64_t groups = 1;         // Conv: groups = inChannels = outChannels is depthwise
  int64_t mid = 0;            // Conv2Plus1d: M_i, the number of spatial filters

  std::vector<TensorInfo> tensors;
  int64_t params = 0;  // trainable elements
  int64_t macs = 0;    // multiply-accumulates per clip

  // The tensor with this role; asking a layer for a role it lacks is a bug (std::logic_error).
  const TensorInfo &tensor(TensorRole role) const;
  const std::string &tensorName(TensorRole role) const { return tensor(role).name; }
};

struct ModelGraph {
  std::string name;
  std::string specPath;
  Shape input;
  int64_t classes = 0;
  std::vector<Layer> layers;
  int64_t params = 0;  // trainable: conv and fc weights and biases, BN gamma and beta
  int64_t macs = 0;    // per clip: convolutions and the fc layer
  int64_t stateElements = 0;  // BN running statistics
  float bnEpsilon = kBatchNormEpsilon;  // every BN's, the spec's `model ... bn_eps=`

  // Width of the pooled vector the classifier reads (512 for the ResNets): Elaborate always
  // ends a network in `fc`, whose input is that vector.
  int64_t featureWidth() const;
};

// The paper's M_i = floor(t d^2 N_{i-1} N_i / (d^2 N_{i-1} + t N_i)), which makes a (2+1)D
// conv have about as many parameters as the t x d x d 3D conv it replaces.
int64_t paperMid(int64_t t, int64_t d, int64_t inChannels, int64_t outChannels);

} // namespace vidnet
