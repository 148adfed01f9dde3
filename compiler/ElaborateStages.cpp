// Elaboration's phase 2: layer-by-layer shape, parameter and MAC computation of the checked
// statements, with PyTorch's convolution arithmetic and torchvision's layer names.
#include "compiler/ElaborateStages.h"

#include "compiler/Elaborate.h"
#include "common/OpArithmetic.h"

namespace vidnet::elab {

using dsl::ConvKind;
using dsl::DiagKind;
using dsl::Loc;

namespace {

class GraphBuilder {
public:
  GraphBuilder(ModelGraph &graph, Loc headLoc, dsl::DiagnosticEngine &diags)
      : g_(graph), headLoc_(headLoc), diags_(diags) {}

  bool build(const ConvStatement &stem, const std::vector<BodyItem> &body) {
    int x = -1;
    Shape shape = g_.input;
    if (stem.fold) {
      Layer &f = add("stem.fold", LayerKind::FoldTime, stem.stmt->loc, {x});
      f.output = Shape{shape.c * shape.l, 1, shape.h, shape.w};
      shape = f.output;
      x = last();
      folded_ = true;
    }
    // torchvision's R2Plus1dStem flattens (spatial, BN, ReLU, temporal) into stem.0..3.
    bool stem21 = stem.kind == ConvKind::Conv2Plus1d;
    int64_t stemMid = stem.mid.empty() ? 0 : stem.mid[0];
    if (!conv("stem.0", stem21 ? "stem." : "stem.0.", stem, x, stem.ch, stem.stride, stemMid, 1))
      return false;
    x = bnRelu(stem21 ? "stem.4" : "stem.1", stem21 ? "stem.5" : "stem.2", stem.stmt->loc);

    int stageNumber = 0;
    int64_t networkBlock = 0;  // the block's index over every stage, for P3D's A, B, C cycle
    for (const BodyItem &item : body) {
      if (item.pool) {
        x = maxPool(stageNumber == 0 ? "maxpool" : "pool" + std::to_string(stageNumber), *item.pool, x);
        if (x < 0)
          return false;
        continue;
      }
      const ConvStatement &s = *item.stage;
      ++stageNumber;
      for (int64_t b = 0; b < s.blocks; ++b) {
        std::string prefix = "layer" + std::to_string(stageNumber) + "." + std::to_string(b) + ".";
        Dims3 stride = b == 0 ? s.stride : Dims3{1, 1, 1};
        x = block(prefix, s, b, networkBlock++, x, stride);
        if (x < 0 || overflow_)
          return false;
      }
    }
    return head(x);
  }

private:
  int block(const std::string &prefix, const ConvStatement &s, int64_t b, int64_t networkBlock, int x, Dims3 stride) {
    static constexpr BlockKind cycle[] = {BlockKind::P3dA, BlockKind::P3dB, BlockKind::P3dC};
    switch (s.block) {
    case BlockKind::Basic: return basicBlock(prefix, s, b, x, stride);
    case BlockKind::Bottleneck:
    case BlockKind::IrCsn:
    case BlockKind::IpCsn: return bottleneckBlock(prefix, s, b, x, stride);
    case BlockKind::P3dCycle: return p3dBlock(prefix, s, x, stride, cycle[networkBlock % 3]);
    default: return p3dBlock(prefix, s, x, stride, s.block);
    }
  }

  // The stage's statement as a 1x1x1 conv3d without padding: bottleneck ends, projections.
  static ConvStatement pointwiseOf(const ConvStatement &s) {
    ConvStatement p = s;
    p.kind = ConvKind::Conv3d;
    p.t = p.d = 1;
    p.pad = Dims3{0, 0, 0};
    return p;
  }

  // torchvision's BasicBlock: conv1 (conv, BN, ReLU), conv2 (conv, BN), shortcut, add, ReLU.
  int basicBlock(const std::string &prefix, const ConvStatement &s, int64_t b, int x, Dims3 stride) {
    int blockIn = x;
    if (!conv(prefix + "conv1.0", prefix + "conv1.0.", s, x, s.ch, stride, midOf(s, b, 0), s.groups))
      return -1;
    bnRelu(prefix + "conv1.1", prefix + "conv1.2", s.stmt->loc);
    if (!conv(prefix + "conv2.0", prefix + "conv2.0.", s, last(), s.ch, Dims3{1, 1, 1}, midOf(s, b, 1), s.groups))
      return -1;
    int residual = batchNorm(prefix + "conv2.1", s.stmt->loc);
    return finishBlock(prefix, s, blockIn, residual, stride);
  }

  // torchvision's Bottleneck (expansion 4) with the stride on the middle conv, as VMZ's CSN and
  // R3D-50/101/152 place it: conv1 (1x1x1 to ch, BN, ReLU), conv2 (middle, BN, ReLU), conv3
  // (1x1x1 to 4 ch, BN), shortcut, add, ReLU. ip-CSN's middle is VMZ's IPConv3DDepthwise,
  // conv2.0.{0,1,2}: 1x1x1, BN (no ReLU), depthwise.
  int bottleneckBlock(const std::string &prefix, const ConvStatement &s, int64_t b, int x, Dims3 stride) {
    const Loc loc = s.stmt->loc;
    const int blockIn = x;
    const int64_t inChannels = shapeOf(x).c, width = s.ch;
    const ConvStatement pointwise = pointwiseOf(s);
    if (!conv(prefix + "conv1.0", prefix + "conv1.0.", pointwise, x, width, Dims3{1, 1, 1}, 0, 1))
      return -1;
    bnRelu(prefix + "conv1.1", prefix + "conv1.2", loc);
    if (s.block == BlockKind::IpCsn) {
      if (!conv(prefix + "conv2.0.0", prefix + "conv2.0.0.", pointwise, last(), width, Dims3{1, 1, 1}, 0, 1))
        return -1;
      batchNorm(prefix + "conv2.0.1", loc);
      if (!conv(prefix + "conv2.0.2", prefix + "conv2.0.2.", s, last(), width, stride, 0, width))
        return -1;
    } else {
      // torchvision sizes a (2+1)D middle conv's M_i from the block's input channels.
      int64_t mid = midOf(s, b, 0);
      if (s.kind == ConvKind::Conv2Plus1d && mid == 0)
        mid = paperMid(s.t, s.d, inChannels, width);
      int64_t groups = s.block == BlockKind::IrCsn ? width : s.groups;
      if (!conv(prefix + "conv2.0", prefix + "conv2.0.", s, last(), width, stride, mid, groups))
        return -1;
    }
    bnRelu(prefix + "conv2.1", prefix + "conv2.2", loc);
    if (!conv(prefix + "conv3.0", prefix + "conv3.0.", pointwise, last(), 4 * width, Dims3{1, 1, 1}, 0, 1))
      return -1;
    int residual = batchNorm(prefix + "conv3.1", loc);
    return finishBlock(prefix, s, blockIn, residual, stride);
  }

  // P3D's bottleneck as the authors' deploy prototxt has it: the stride on the first 1x1x1 conv
  // (conv1, then BN, ReLU), S (conv2: 1 x d x d, BN, ReLU) and T (conv3: t x 1 x 1, BN, ReLU)
  // composed as the kind says, the sum of B's and C's two paths unscaled (the paper's
  // equations; the released model's 0.5 factors are left out), conv4 (1x1x1 to 4 ch, BN).
  int p3dBlock(const std::string &prefix, const ConvStatement &s, int x, Dims3 stride, BlockKind kind) {
    const Loc loc = s.stmt->loc;
    const int blockIn = x;
    const int64_t width = s.ch;
    const ConvStatement pointwise = pointwiseOf(s);
    ConvStatement spatial = s, temporal = s;
    spatial.kind = temporal.kind = ConvKind::Conv3d;
    spatial.t = 1;
    spatial.pad = Dims3{0, s.pad.h, s.pad.w};
    temporal.d = 1;
    temporal.pad = Dims3{s.pad.t, 0, 0};
    if (!conv(prefix + "conv1.0", prefix + "conv1.0.", pointwise, x, width, stride, 0, 1))
      return -1;
    int reduced = bnRelu(prefix + "conv1.1", prefix + "conv1.2", loc);
    if (!conv(prefix + "conv2.0", prefix + "conv2.0.", spatial, reduced, width, Dims3{1, 1, 1}, 0, 1))
      return -1;
    int sOut = bnRelu(prefix + "conv2.1", prefix + "conv2.2", loc);
    int tIn = kind == BlockKind::P3dB ? reduced : sOut;
    if (!conv(prefix + "conv3.0", prefix + "conv3.0.", temporal, tIn, width, Dims3{1, 1, 1}, 0, 1))
      return -1;
    int middle = bnRelu(prefix + "conv3.1", prefix + "conv3.2", loc);
    if (kind != BlockKind::P3dA) {
      add(prefix + "st_add", LayerKind::Add, loc, {sOut, middle}).output = shapeOf(middle);
      middle = last();
    }
    if (!conv(prefix + "conv4.0", prefix + "conv4.0.", pointwise, middle, 4 * width, Dims3{1, 1, 1}, 0, 1))
      return -1;
    int residual = batchNorm(prefix + "conv4.1", loc);
    return finishBlock(prefix, s, blockIn, residual, stride);
  }

  // The shortcut (a 1x1x1 projection with the block's stride when the stride or the channel
  // count changes, torchvision's downsample), the residual add and the block's ReLU.
  int finishBlock(const std::string &prefix, const ConvStatement &s, int blockIn, int residual, Dims3 stride) {
    const int64_t outChannels = shapeOf(residual).c;
    int shortcut = blockIn;
    if (stride != Dims3{1, 1, 1} || shapeOf(blockIn).c != outChannels) {
      if (!conv(prefix + "downsample.0", prefix + "downsample.0.", pointwiseOf(s), blockIn, outChannels, stride, 0, 1))
        return -1;
      shortcut = batchNorm(prefix + "downsample.1", s.stmt->loc);
    }
    Shape blockOut = shapeOf(residual);
    if (blockOut != shapeOf(shortcut)) {
      Dims3 kernel{s.kind == ConvKind::Conv2d ? 1 : s.t, s.d, s.d};
      diags_.error(s.stmt->loc, DiagKind::ShapeMismatch,
                   "block `" + prefix.substr(0, prefix.size() - 1) + "` ends in " + toString(blockOut) +
                       " but its shortcut is " + toString(shapeOf(shortcut)) +
                       "; the residual add needs equal shapes (kernel " + toString(kernel) + ", pad " +
                       toString(s.pad) + ": use odd kernels with pad = kernel // 2)");
      return -1;
    }
    add(prefix + "add", LayerKind::Add, s.stmt->loc, {residual, shortcut}).output = blockOut;
    add(prefix + "relu", LayerKind::ReLU, s.stmt->loc, {last()}).output = blockOut;
    return last();
  }

  int maxPool(std::string name, const PoolStatement &p, int input) {
    Shape in = shapeOf(input);
    Layer &l = add(std::move(name), LayerKind::MaxPool, p.stmt->loc, {input});
    l.kernel = p.kernel;
    l.stride = p.stride;
    l.pad = p.pad;
    if (!outputShape(l, in, l.kernel, l.stride, l.pad, in.c, l.output))
      return -1;
    return last();
  }

  int last() const { return static_cast<int>(g_.layers.size()) - 1; }

  Layer &add(std::string name, LayerKind kind, Loc loc, std::vector<int> inputs) {
    Layer l;
    l.name = std::move(name);
    l.kind = kind;
    l.loc = loc;
    l.inputs = std::move(inputs);
    g_.layers.push_back(std::move(l));
    return g_.layers.back();
  }

  // By value: callers keep it across add(), which may reallocate the layer vector.
  Shape shapeOf(int index) const {
    return index < 0 ? g_.input : g_.layers[static_cast<size_t>(index)].output;
  }

  // Checked accumulation: a hostile spec must not overflow into a plausible number.
  int64_t mul(std::initializer_list<int64_t> factors) {
    int64_t r = 1;
    for (int64_t f : factors)
      if (__builtin_mul_overflow(r, f, &r))
        overflow_ = true;
    return r;
  }
  void account(Layer &l) {
    for (const TensorInfo &t : l.tensors) {
      int64_t n = 1;
      for (int64_t d : t.shape)
        n = mul({n, d});
      if (t.trainable ? __builtin_add_overflow(l.params, n, &l.params)
                      : !t.isInteger && __builtin_add_overflow(g_.stateElements, n, &g_.stateElements))
        overflow_ = true;
    }
    if (__builtin_add_overflow(g_.params, l.params, &g_.params) ||
        __builtin_add_overflow(g_.macs, l.macs, &g_.macs))
      overflow_ = true;
    if (overflow_ && !overflowReported_) {
      overflowReported_ = true;
      diags_.error(l.loc, DiagKind::TooLarge,
                   "layer `" + l.name + "` makes the parameter or MAC count overflow 64 bits");
    }
  }

  int64_t midOf(const ConvStatement &s, int64_t block, int conv) const {
    if (s.mid.empty())
      return 0;
    if (s.mid.size() == 1)
      return s.mid[0];
    if (s.mid.size() == static_cast<size_t>(s.blocks))
      return s.mid[static_cast<size_t>(block)];
    return s.mid[static_cast<size_t>(2 * block + conv)];
  }

  bool convDim(const Layer &l, const Shape &in, int64_t n, int64_t k, int64_t s, int64_t p,
               const char *axis, int64_t &out) {
    out = convOutputExtent(n, k, s, p);
    if (out < 1) {
      diags_.error(l.loc, DiagKind::ShapeTooSmall,
                   "layer `" + l.name + "` (kernel " + toString(l.kernel) + ", stride " + toString(l.stride) +
                       ", pad " + toString(l.pad) + ") gets input " + toString(in) + " and would shrink " +
                       axis + " below 1 (padded extent " + std::to_string(n + 2 * p) +
                       " < kernel " + std::to_string(k) + ")");
      return false;
    }
    return true;
  }

  bool outputShape(const Layer &l, const Shape &in, Dims3 k, Dims3 s, Dims3 p, int64_t channels,
                   Shape &out) {
    out.c = channels;
    return convDim(l, in, in.l, k.t, s.t, p.t, "time", out.l) &&
           convDim(l, in, in.h, k.h, s.h, p.h, "height", out.h) &&
           convDim(l, in, in.w, k.w, s.w, p.w, "width", out.w);
  }

  bool conv(std::string name, const std::string &tensorPrefix, const ConvStatement &c, int input,
            int64_t channels, Dims3 stride, int64_t mid, int64_t groups) {
    if (static_cast<int64_t>(g_.layers.size()) > kMaxLayers) {
      diags_.error(c.stmt->loc, DiagKind::TooLarge,
                   "the model has more than " + std::to_string(kMaxLayers) + " layers");
      return false;
    }
    Shape in = shapeOf(input);
    bool twoPlusOne = c.kind == ConvKind::Conv2Plus1d;
    Layer &l = add(std::move(name), twoPlusOne ? LayerKind::Conv2Plus1d : LayerKind::Conv,
                   c.stmt->loc, {input});
    l.inChannels = in.c;
    l.outChannels = channels;
    l.kernel = Dims3{c.kind == ConvKind::Conv2d ? 1 : c.t, c.d, c.d};
    l.stride = stride;
    l.pad = c.pad;
    if (folded_ && (l.stride.t > 1 || l.kernel.t > 1 || l.pad.t > 0)) {
      diags_.error(l.loc, DiagKind::TemporalAfterFold,
                   "layer `" + l.name + "` has temporal " +
                       (l.stride.t > 1   ? "stride " + std::to_string(l.stride.t)
                        : l.kernel.t > 1 ? "kernel t=" + std::to_string(l.kernel.t)
                                         : "padding " + std::to_string(l.pad.t)) +
                       ", but the stem folded time into channels (`fold=time`); there is one frame "
                       "left");
      return false;
    }
    if (!twoPlusOne) {
      if (in.c % groups != 0 || channels % groups != 0) {
        diags_.error(l.loc, DiagKind::GroupsMismatch,
                     "layer `" + l.name + "`: groups=" + std::to_string(groups) + " must divide its " +
                         std::to_string(in.c) + " input and " + std::to_string(channels) + " output channels");
        return false;
      }
      l.groups = groups;
      if (!outputShape(l, in, l.kernel, l.stride, l.pad, channels, l.output))
        return false;
      l.tensors.push_back(makeTensor(tensorPrefix + "weight", TensorRole::ConvWeight,
                                     {channels, in.c / groups, l.kernel.t, l.kernel.h, l.kernel.w}));
      l.macs = mul({l.output.c, l.output.l, l.output.h, l.output.w, in.c / groups, l.kernel.t, l.kernel.h,
                    l.kernel.w});
      account(l);
      return !overflow_;
    }
    l.mid = mid > 0 ? mid : paperMid(l.kernel.t, l.kernel.h, in.c, channels);
    if (l.mid <= 0) {
      diags_.error(l.loc, DiagKind::NonPositiveSize,
                   "layer `" + l.name + "`: the paper's formula gives M_i = 0 spatial filters for " +
                       std::to_string(in.c) + " -> " + std::to_string(channels) +
                       " channels; set `mid=` explicitly");
      return false;
    }
    Shape spatial;
    if (!outputShape(l, in, {1, l.kernel.h, l.kernel.w}, {1, l.stride.h, l.stride.w},
                     {0, l.pad.h, l.pad.w}, l.mid, spatial) ||
        !outputShape(l, spatial, {l.kernel.t, 1, 1}, {l.stride.t, 1, 1}, {l.pad.t, 0, 0}, channels,
                     l.output))
      return false;
    // Sub-module names follow torchvision's Conv2Plus1D: 0 spatial conv, 1 BN, 2 ReLU, 3 temporal.
    l.tensors.push_back(
        makeTensor(tensorPrefix + "0.weight", TensorRole::SpatialWeight, {l.mid, in.c, 1, l.kernel.h, l.kernel.w}));
    appendBatchNormTensors(l, tensorPrefix + "1.", l.mid);
    l.tensors.push_back(
        makeTensor(tensorPrefix + "3.weight", TensorRole::TemporalWeight, {channels, l.mid, l.kernel.t, 1, 1}));
    int64_t spatialMacs = mul({spatial.c, spatial.l, spatial.h, spatial.w, in.c, l.kernel.h, l.kernel.w});
    int64_t temporalMacs = mul({l.output.c, l.output.l, l.output.h, l.output.w, l.mid, l.kernel.t});
    if (__builtin_add_overflow(spatialMacs, temporalMacs, &l.macs))
      overflow_ = true;
    account(l);
    return !overflow_;
  }

  static void appendBatchNormTensors(Layer &l, const std::string &prefix, int64_t channels) {
    l.tensors.push_back(makeTensor(prefix + "weight", TensorRole::BnGamma, {channels}));
    l.tensors.push_back(makeTensor(prefix + "bias", TensorRole::BnBeta, {channels}));
    l.tensors.push_back(makeTensor(prefix + "running_mean", TensorRole::BnRunningMean, {channels}));
    l.tensors.push_back(makeTensor(prefix + "running_var", TensorRole::BnRunningVar, {channels}));
    l.tensors.push_back(makeTensor(prefix + "num_batches_tracked", TensorRole::BnNumBatchesTracked, {}));
  }

  int batchNorm(std::string name, Loc loc) {
    int input = last();
    Shape shape = shapeOf(input);
    Layer &bn = add(std::move(name), LayerKind::BatchNorm, loc, {input});
    bn.output = shape;
    appendBatchNormTensors(bn, bn.name + ".", shape.c);
    account(bn);
    return last();
  }

  int bnRelu(std::string bnName, std::string reluName, Loc loc) {
    int bn = batchNorm(std::move(bnName), loc);
    Shape shape = shapeOf(bn);
    add(std::move(reluName), LayerKind::ReLU, loc, {bn}).output = shape;
    return last();
  }

  bool head(int x) {
    Shape in = shapeOf(x);
    Loc loc = headLoc_;
    Layer &pool = add("avgpool", LayerKind::GlobalAvgPool, loc, {x});
    pool.output = Shape{in.c, 1, 1, 1};
    Layer &fc = add("fc", LayerKind::Linear, loc, {last()});
    fc.inChannels = in.c;
    fc.outChannels = g_.classes;
    fc.output = Shape{g_.classes, 1, 1, 1};
    fc.tensors.push_back(makeTensor("fc.weight", TensorRole::LinearWeight, {g_.classes, in.c}));
    fc.tensors.push_back(makeTensor("fc.bias", TensorRole::LinearBias, {g_.classes}));
    fc.macs = mul({g_.classes, in.c});
    account(fc);
    return !overflow_;
  }

  ModelGraph &g_;
  Loc headLoc_;
  dsl::DiagnosticEngine &diags_;
  bool folded_ = false;
  bool overflow_ = false;
  bool overflowReported_ = false;
};

} // namespace

bool buildGraph(ModelGraph &graph, Loc headLoc, const ConvStatement &stem, const std::vector<BodyItem> &body,
                dsl::DiagnosticEngine &diags) {
  return GraphBuilder(graph, headLoc, diags).build(stem, body);
}

} // namespace vidnet::elab
