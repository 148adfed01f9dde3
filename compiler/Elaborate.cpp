// AST -> ModelGraph: statement checks, then layer-by-layer shape, parameter and MAC
// computation with PyTorch's convolution arithmetic and torchvision's layer names.
#include "compiler/Elaborate.h"

#include "common/OpArithmetic.h"
#include "dsl/Parser.h"

#include <algorithm>
#include <filesystem>

namespace vidnet {

using dsl::ConvKind;
using dsl::DiagKind;
using dsl::Loc;
using dsl::Option;
using dsl::Statement;
using dsl::StatementKind;
using dsl::Value;

namespace {

// A conv statement (stem or stage) after its options were checked.
struct ConvStatement {
  const Statement *stmt = nullptr;
  ConvKind kind = ConvKind::Conv3d;
  int64_t t = 1, d = 1, ch = 0;
  Dims3 stride, pad;
  std::vector<int64_t> mid;  // empty: the paper's formula per conv
  bool fold = false;
  int64_t blocks = 1;
};

// ---- Phase 1: each statement on its own ----

class StatementChecker {
public:
  explicit StatementChecker(dsl::DiagnosticEngine &diags) : diags_(diags) {}

  std::optional<int64_t> positive(const Option &o, bool allowZero = false) {
    if (o.value.form != Value::Form::Integer) {
      diags_.error(o.value.loc, DiagKind::InvalidValue,
                   "`" + o.name + "` takes one integer, got " + describe(o.value));
      return std::nullopt;
    }
    int64_t v = o.value.ints[0];
    if (v < 0 || (v == 0 && !allowZero)) {
      diags_.error(o.value.loc, DiagKind::NonPositiveSize,
                   "`" + o.name + "` must be " + (allowZero ? "at least 0" : "positive") +
                       ", got " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  // stride / pad: one integer (expanded by the conv kind) or TxHxW.
  std::optional<Dims3> triple(const Option &o, ConvKind kind, bool allowZero) {
    const Value &v = o.value;
    if (v.form == Value::Form::Integer) {
      std::optional<int64_t> n = positive(o, allowZero);
      if (!n)
        return std::nullopt;
      // The paper: when 3D convolutions become 2D, downsampling becomes only spatial.
      int64_t t = kind == ConvKind::Conv2d ? (o.name == "stride" ? 1 : 0) : *n;
      return Dims3{t, *n, *n};
    }
    if (v.form != Value::Form::Dims || v.ints.size() != 3) {
      diags_.error(v.loc, DiagKind::InvalidValue,
                   "`" + o.name + "` takes an integer or TxHxW such as `1x2x2`, got " + describe(v));
      return std::nullopt;
    }
    for (int64_t n : v.ints)
      if (n < 0 || (n == 0 && !allowZero)) {
        diags_.error(v.loc, DiagKind::NonPositiveSize,
                     "every part of `" + o.name + "` must be " +
                         (allowZero ? "at least 0" : "positive") + ", got " + describe(v));
        return std::nullopt;
      }
    return Dims3{v.ints[0], v.ints[1], v.ints[2]};
  }

  std::optional<ConvStatement> conv(const Statement &s) {
    ConvStatement c;
    c.stmt = &s;
    c.kind = s.conv;
    c.blocks = s.repeat;
    bool ok = true;
    std::string kindName(dsl::convKindName(s.conv));
    if (s.kind == StatementKind::Stage && s.repeat <= 0) {
      diags_.error(s.repeatLoc, DiagKind::NonPositiveSize,
                   "a stage needs at least one block, got x" + std::to_string(s.repeat));
      ok = false;
    }
    auto require = [&](std::string_view name, const char *why) -> const Option * {
      const Option *o = s.option(name);
      if (!o) {
        diags_.error(s.convLoc, DiagKind::MissingOption,
                     kindName + " needs `" + std::string(name) + "=` (" + why + ")");
        ok = false;
      }
      return o;
    };
    if (const Option *o = require("ch", "output channels")) {
      auto v = positive(*o);
      ok &= v.has_value();
      c.ch = v.value_or(0);
    }
    if (const Option *o = require("d", "spatial kernel size, e.g. d=3")) {
      auto v = positive(*o);
      ok &= v.has_value();
      c.d = v.value_or(1);
    }
    if (s.conv == ConvKind::Conv2d) {
      if (const Option *o = s.option("t")) {
        diags_.error(o->loc, DiagKind::InapplicableOption,
                     "conv2d has no temporal extent; drop `t=` or use conv3d or conv(2+1)d");
        ok = false;
      }
    } else if (const Option *o = require("t", "temporal kernel size, e.g. t=3")) {
      auto v = positive(*o);
      ok &= v.has_value();
      c.t = v.value_or(1);
    }
    c.pad = Dims3{c.t / 2, c.d / 2, c.d / 2};
    c.stride = Dims3{1, 1, 1};
    if (const Option *o = s.option("stride")) {
      auto v = triple(*o, s.conv, false);
      ok &= v.has_value();
      c.stride = v.value_or(c.stride);
    }
    if (const Option *o = s.option("pad")) {
      auto v = triple(*o, s.conv, true);
      ok &= v.has_value();
      c.pad = v.value_or(c.pad);
    }
    if (const Option *o = s.option("mid"))
      ok &= checkMid(s, *o, c);
    if (const Option *o = s.option("fold")) {
      if (o->value.form != Value::Form::Word || o->value.word != "time") {
        diags_.error(o->value.loc, DiagKind::InvalidValue,
                     "`fold` takes `time` (fold the frames into channels), got " + describe(o->value));
        ok = false;
      } else if (s.conv != ConvKind::Conv2d) {
        diags_.error(o->loc, DiagKind::InvalidFold,
                     "`fold=time` needs a conv2d stem: after folding there is no time axis for a " +
                         kindName + " to convolve");
        ok = false;
      } else {
        c.fold = true;
      }
    }
    if (const Option *o = s.option("block"))
      ok &= checkBlock(*o);
    if (const Option *o = s.option("groups")) {
      auto v = positive(*o);
      if (v && *v > 1) {
        diags_.error(o->loc, DiagKind::NotImplemented,
                     "grouped convolutions (`groups=" + std::to_string(*v) +
                         "`) are reserved in the grammar and not implemented yet");
        v.reset();
      }
      ok &= v.has_value();
    }
    return ok ? std::optional<ConvStatement>(c) : std::nullopt;
  }

  std::optional<Shape> input(const Statement &s) {
    Shape shape;
    bool ok = true;
    for (auto [name, field] : {std::pair{"c", &shape.c}, {"l", &shape.l}, {"h", &shape.h},
                               {"w", &shape.w}}) {
      const Option *o = s.option(name);
      if (!o) {
        diags_.error(s.loc, DiagKind::MissingOption,
                     std::string("`input` needs `") + name + "=` (the clip is c x l x h x w, e.g. "
                     "`input clip c=3 l=16 h=112 w=112`)");
        ok = false;
        continue;
      }
      auto v = positive(*o);
      ok &= v.has_value();
      *field = v.value_or(0);
    }
    return ok ? std::optional<Shape>(shape) : std::nullopt;
  }

  std::optional<int64_t> head(const Statement &s) {
    const Option *o = s.option("classes");
    if (!o) {
      diags_.error(s.loc, DiagKind::MissingOption, "`head` needs `classes=` (e.g. `head classes=400`)");
      return std::nullopt;
    }
    return positive(*o);
  }

private:
  static std::string describe(const Value &v) { return "`" + dsl::valueText(v, 8, 40) + "`"; }

  bool checkMid(const Statement &s, const Option &o, ConvStatement &c) {
    if (s.conv != ConvKind::Conv2Plus1d) {
      diags_.error(o.loc, DiagKind::MidNotTwoPlusOne,
                   "`mid=` sets the spatial filters M_i of a conv(2+1)d, but this is a " +
                       std::string(dsl::convKindName(s.conv)));
      return false;
    }
    const Value &v = o.value;
    size_t perBlock = static_cast<size_t>(std::max<int64_t>(s.repeat, 0));
    bool listOk = v.form == Value::Form::Integer ||
                  (s.kind == StatementKind::Stage && v.form == Value::Form::List &&
                   (v.ints.size() == perBlock || v.ints.size() == 2 * perBlock));
    if (!listOk) {
      std::string expected = s.kind == StatementKind::Stem
                                 ? "one integer"
                                 : "one integer, one per block (" + std::to_string(perBlock) +
                                       ") or one per conv (" + std::to_string(2 * perBlock) + ")";
      diags_.error(v.loc, DiagKind::InvalidValue,
                   "`mid` takes " + expected + ", got " + describe(v));
      return false;
    }
    for (int64_t m : v.ints)
      if (m <= 0) {
        diags_.error(v.loc, DiagKind::NonPositiveSize,
                     "`mid` must be positive, got " + std::to_string(m));
        return false;
      }
    c.mid = v.ints;
    return true;
  }

  bool checkBlock(const Option &o) {
    static const std::vector<std::string_view> reserved = {"bottleneck", "p3d-a", "p3d-b",
                                                           "p3d-c",      "ip-csn", "ir-csn"};
    std::vector<std::string_view> all = reserved;
    all.push_back("basic");
    if (o.value.form != Value::Form::Word ||
        std::find(all.begin(), all.end(), o.value.word) == all.end()) {
      diags_.error(o.value.loc, DiagKind::InvalidValue,
                   "unknown block " + describe(o.value) +
                       " (expected basic, bottleneck, p3d-a, p3d-b, p3d-c, ip-csn or ir-csn)" +
                       (o.value.form == Value::Form::Word ? dsl::didYouMean(o.value.word, all) : ""));
      return false;
    }
    if (o.value.word != "basic") {
      diags_.error(o.value.loc, DiagKind::NotImplemented,
                   "`block=" + o.value.word + "` is reserved in the grammar and not implemented yet");
      return false;
    }
    return true;
  }

  dsl::DiagnosticEngine &diags_;
};

// ---- Phase 2: layers and shapes ----

class GraphBuilder {
public:
  GraphBuilder(ModelGraph &graph, Loc headLoc, dsl::DiagnosticEngine &diags)
      : g_(graph), headLoc_(headLoc), diags_(diags) {}

  bool build(const ConvStatement &stem, const std::vector<ConvStatement> &stages) {
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
    if (!conv("stem.0", stem21 ? "stem." : "stem.0.", stem, x, stem.ch, stem.stride, stemMid))
      return false;
    x = bnRelu(stem21 ? "stem.4" : "stem.1", stem21 ? "stem.5" : "stem.2", stem.stmt->loc);

    for (size_t i = 0; i < stages.size(); ++i) {
      const ConvStatement &s = stages[i];
      for (int64_t b = 0; b < s.blocks; ++b) {
        std::string prefix = "layer" + std::to_string(i + 1) + "." + std::to_string(b) + ".";
        Dims3 stride = b == 0 ? s.stride : Dims3{1, 1, 1};
        int blockIn = x;
        int64_t inChannels = g_.layers[static_cast<size_t>(x)].output.c;
        if (!conv(prefix + "conv1.0", prefix + "conv1.0.", s, x, s.ch, stride, midOf(s, b, 0)))
          return false;
        bnRelu(prefix + "conv1.1", prefix + "conv1.2", s.stmt->loc);
        if (!conv(prefix + "conv2.0", prefix + "conv2.0.", s, last(), s.ch, Dims3{1, 1, 1},
                  midOf(s, b, 1)))
          return false;
        int residual = batchNorm(prefix + "conv2.1", s.stmt->loc);
        int shortcut = blockIn;
        if (stride != Dims3{1, 1, 1} || inChannels != s.ch) {
          ConvStatement proj = s;
          proj.kind = ConvKind::Conv3d;
          proj.t = proj.d = 1;
          proj.pad = Dims3{0, 0, 0};
          if (!conv(prefix + "downsample.0", prefix + "downsample.0.", proj, blockIn, s.ch, stride, 0))
            return false;
          shortcut = batchNorm(prefix + "downsample.1", s.stmt->loc);
        }
        Shape blockOut = shapeOf(residual);
        if (blockOut != shapeOf(shortcut)) {
          diags_.error(s.stmt->loc, DiagKind::ShapeMismatch,
                       "block `" + prefix.substr(0, prefix.size() - 1) + "` ends in " +
                           toString(blockOut) + " but its shortcut is " + toString(shapeOf(shortcut)) +
                           "; the residual add needs equal shapes (kernel " +
                           toString(g_.layers[static_cast<size_t>(residual) - 1].kernel) + ", pad " +
                           toString(s.pad) + ": use odd kernels with pad = kernel // 2)");
          return false;
        }
        add(prefix + "add", LayerKind::Add, s.stmt->loc, {residual, shortcut}).output = blockOut;
        add(prefix + "relu", LayerKind::ReLU, s.stmt->loc, {last()}).output = blockOut;
        x = last();
        if (overflow_)
          return false;
      }
    }
    return head(x);
  }

private:
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
            int64_t channels, Dims3 stride, int64_t mid) {
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
      if (!outputShape(l, in, l.kernel, l.stride, l.pad, channels, l.output))
        return false;
      l.tensors.push_back(makeTensor(tensorPrefix + "weight", TensorRole::ConvWeight,
                                     {channels, in.c, l.kernel.t, l.kernel.h, l.kernel.w}));
      l.macs = mul({l.output.c, l.output.l, l.output.h, l.output.w, in.c, l.kernel.t, l.kernel.h,
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

std::optional<ModelGraph> elaborate(const dsl::Spec &spec, const ElaborateOptions &options,
                                    dsl::DiagnosticEngine &diags) {
  StatementChecker check(diags);
  const Statement *seen[5] = {};  // model, input, stem, (stages), head
  std::optional<Shape> input;
  std::optional<int64_t> classes;
  std::optional<ConvStatement> stem;
  std::vector<ConvStatement> stages;
  bool stagesOk = true;
  std::string modelName;

  // Statements must come in this order; `rank` is the position a keyword may appear at.
  auto rank = [](StatementKind k) {
    switch (k) {
    case StatementKind::Model: return 0;
    case StatementKind::Input: return 1;
    case StatementKind::Stem: return 2;
    case StatementKind::Stage: return 3;
    case StatementKind::Head: return 4;
    default: return -1;
    }
  };
  int highest = -1;
  const Statement *highestStmt = nullptr;
  // One OutOfOrder per statement that others wrongly follow: a `head` on line 1 is one
  // mistake, not one per later statement.
  const Statement *reportedAfter = nullptr;
  bool hasStreams = false;

  for (const Statement &s : spec.statements) {
    std::string keyword(dsl::statementKeyword(s.kind));
    if (s.kind == StatementKind::Stream || s.kind == StatementKind::Connect) {
      hasStreams = true;
      if (s.broken)
        continue;
      diags.error(s.loc, DiagKind::NotImplemented,
                  s.kind == StatementKind::Stream
                      ? "two-stream models (`stream`) are reserved in the grammar and not implemented yet"
                      : "connections between streams (`connect`) are reserved in the grammar and not "
                        "implemented yet");
      continue;
    }
    int r = rank(s.kind);
    if (r != 3) {
      if (const Statement *prev = seen[r]) {
        diags.error(s.loc, DiagKind::DuplicateStatement, "`" + keyword + "` given twice");
        diags.note(prev->loc, "first given here");
        continue;
      }
      seen[r] = &s;
    }
    if (r < highest && reportedAfter != highestStmt) {
      reportedAfter = highestStmt;
      diags.error(s.loc, DiagKind::OutOfOrder,
                  "`" + keyword + "` after `" + std::string(dsl::statementKeyword(highestStmt->kind)) +
                      "`; a spec reads model, input, stem, stage..., head");
    } else if (r > highest) {
      highest = r;
      highestStmt = &s;
    }
    if (s.broken) {
      stagesOk &= s.kind != StatementKind::Stage;
      continue;
    }
    switch (s.kind) {
    case StatementKind::Model: modelName = s.name; break;
    case StatementKind::Input: input = check.input(s); break;
    case StatementKind::Head: classes = check.head(s); break;
    case StatementKind::Stem:
      stem = check.conv(s);
      break;
    case StatementKind::Stage: {
      std::optional<ConvStatement> c = check.conv(s);
      stagesOk &= c.has_value();
      if (c)
        stages.push_back(*c);
      break;
    }
    default: break;
    }
  }
  Loc top{1, 1};
  // A two-stream spec declares its inputs and stems inside the streams; it has been reported
  // as not implemented already, and "missing" errors would only be noise.
  if (hasStreams)
    return std::nullopt;
  if (!seen[1])
    diags.error(top, DiagKind::MissingStatement,
                "the spec has no `input` statement (e.g. `input clip c=3 l=16 h=112 w=112`)");
  if (!seen[2])
    diags.error(top, DiagKind::MissingStatement,
                "the spec has no `stem` statement (e.g. `stem conv3d t=3 d=7 ch=64 stride=1x2x2`)");
  if (!seen[4])
    diags.error(top, DiagKind::MissingStatement,
                "the spec has no `head` statement (e.g. `head classes=400`)");
  if (diags.hasErrors() || !input || !classes || !stem || !stagesOk)
    return std::nullopt;

  ModelGraph graph;
  graph.name = !modelName.empty() ? modelName : std::filesystem::path(spec.path).stem().string();
  graph.specPath = spec.path;
  graph.input = options.input.value_or(*input);
  graph.classes = options.classes.value_or(*classes);
  GraphBuilder builder(graph, seen[4]->loc, diags);
  if (!builder.build(*stem, stages))
    return std::nullopt;
  return graph;
}

} // namespace vidnet
