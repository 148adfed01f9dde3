// Layer-by-layer interpretation of a ModelGraph with the reference ops: the eval-mode forward
// and the training step (batch-statistics BN, backward through the reference VJPs).
#include "test/support/ReferenceModel.h"

#include "runtime/reference/Backward.h"
#include "runtime/reference/Pooling.h"

#include <stdexcept>

namespace vidnet::test {

ref::Tensor referenceForward(const ModelGraph &graph, const ref::Tensor &clips,
                             const std::function<ref::Tensor(const std::string &)> &tensor, ref::Tensor *features) {
  std::vector<ref::Tensor> values;
  auto input = [&](const Layer &l, size_t i = 0) -> const ref::Tensor & {
    return l.inputs.at(i) < 0 ? clips : values.at(static_cast<size_t>(l.inputs[i]));
  };
  auto param = [&](const Layer &l, TensorRole role) { return tensor(l.tensorName(role)); };
  auto bn = [&](const ref::Tensor &x, const Layer &l) {
    return ref::batchNormForward(x, param(l, TensorRole::BnGamma), param(l, TensorRole::BnBeta),
                                 param(l, TensorRole::BnRunningMean), param(l, TensorRole::BnRunningVar),
                                 graph.bnEpsilon);
  };
  for (const Layer &l : graph.layers) {
    switch (l.kind) {
    case LayerKind::FoldTime:
      values.push_back(ref::foldTimeForward(input(l)));
      break;
    case LayerKind::Conv:
      values.push_back(ref::convForward(input(l), param(l, TensorRole::ConvWeight), {l.stride.t, l.stride.h, l.stride.w},
                                        {l.pad.t, l.pad.h, l.pad.w}, l.groups));
      break;
    case LayerKind::MaxPool:
      values.push_back(ref::maxPoolForward(input(l), {l.kernel.t, l.kernel.h, l.kernel.w},
                                           {l.stride.t, l.stride.h, l.stride.w}, {l.pad.t, l.pad.h, l.pad.w}));
      break;
    case LayerKind::Conv2Plus1d: {
      // Tran et al. Sec. 3.5: spatial 1 x d x d with the H/W stride, BN, ReLU, temporal t x 1 x 1.
      ref::Tensor spatial = ref::convForward(input(l), param(l, TensorRole::SpatialWeight), {1, l.stride.h, l.stride.w},
                                             {0, l.pad.h, l.pad.w});
      ref::Tensor mid = ref::reluForward(bn(spatial, l));
      values.push_back(ref::convForward(mid, param(l, TensorRole::TemporalWeight), {l.stride.t, 1, 1}, {l.pad.t, 0, 0}));
      break;
    }
    case LayerKind::BatchNorm:
      values.push_back(bn(input(l), l));
      break;
    case LayerKind::ReLU:
      values.push_back(ref::reluForward(input(l)));
      break;
    case LayerKind::Add:
      values.push_back(ref::addForward(input(l, 0), input(l, 1)));
      break;
    case LayerKind::GlobalAvgPool:
      values.push_back(ref::globalAvgPoolForward(input(l)));
      break;
    case LayerKind::Linear:
      if (features)
        *features = input(l);
      values.push_back(ref::denseForward(input(l), param(l, TensorRole::LinearWeight), param(l, TensorRole::LinearBias)));
      break;
    }
  }
  return values.back();
}

namespace {

using TensorFn = std::function<ref::Tensor(const std::string &)>;

ref::Triple triple(const Dims3 &d) { return {d.t, d.h, d.w}; }

// Training-mode interpretation: a forward that keeps what the backward needs, then the VJPs in
// reverse layer order. Layers only read earlier layers, so when a layer's turn comes every
// use of its output has already added its share to the cotangent.
class TrainStep {
public:
  TrainStep(const ModelGraph &graph, const ref::Tensor &clips, const TensorFn &tensor)
      : graph_(graph), clips_(clips), tensor_(tensor) {}

  ReferenceTrainResult run(const std::vector<int64_t> &labels) {
    for (const Layer &l : graph_.layers)
      saved_.push_back(forward(l));
    result_.logits = saved_.back().output;
    result_.loss = ref::softmaxCrossEntropyForward(result_.logits, labels);
    cotangents_.resize(graph_.layers.size());
    cotangents_.back() = ref::softmaxCrossEntropyBackward(result_.logits, labels);
    for (size_t i = graph_.layers.size(); i-- > 0;)
      backward(graph_.layers[i], saved_[i], cotangents_[i]);
    return std::move(result_);
  }

private:
  // A layer's output and, for Conv2Plus1d, its inner tensors: the spatial conv's output (the
  // inner BN's input), the BN's output (the ReLU's input) and the ReLU's output (the temporal
  // conv's input). Other layers leave those empty, hence the initializers.
  struct Saved {
    ref::Tensor output, spatial = {}, normalized = {}, mid = {};
  };

  const ref::Tensor &input(const Layer &l, size_t i = 0) const {
    return l.inputs.at(i) < 0 ? clips_ : saved_.at(static_cast<size_t>(l.inputs[i])).output;
  }

  ref::Tensor param(const Layer &l, TensorRole role) const { return tensor_(l.tensorName(role)); }

  // The running statistics are not read in training mode, only named in the batch statistics
  // reported.
  ref::Tensor batchNorm(const ref::Tensor &x, const Layer &l) {
    ref::BatchNormTrainResult r =
        ref::batchNormTrainForward(x, param(l, TensorRole::BnGamma), param(l, TensorRole::BnBeta), graph_.bnEpsilon);
    result_.batchMean[l.tensorName(TensorRole::BnRunningMean)] = std::move(r.mean);
    result_.batchVar[l.tensorName(TensorRole::BnRunningVar)] = std::move(r.var);
    return std::move(r.y);
  }

  void noteReluInput(const ref::Tensor &x) {
    for (float v : x.data)
      result_.smallestReluInput = std::min(result_.smallestReluInput, std::abs(static_cast<double>(v)));
  }

  Saved forward(const Layer &l) {
    switch (l.kind) {
    case LayerKind::FoldTime:
      return {ref::foldTimeForward(input(l))};
    case LayerKind::Conv:
      return {ref::convForward(input(l), param(l, TensorRole::ConvWeight), triple(l.stride), triple(l.pad), l.groups)};
    case LayerKind::MaxPool:
      return {ref::maxPoolForward(input(l), triple(l.kernel), triple(l.stride), triple(l.pad))};
    case LayerKind::Conv2Plus1d: {
      Saved s;
      s.spatial = ref::convForward(input(l), param(l, TensorRole::SpatialWeight), {1, l.stride.h, l.stride.w},
                                   {0, l.pad.h, l.pad.w});
      s.normalized = batchNorm(s.spatial, l);
      s.mid = ref::reluForward(s.normalized);
      noteReluInput(s.normalized);
      s.output = ref::convForward(s.mid, param(l, TensorRole::TemporalWeight), {l.stride.t, 1, 1}, {l.pad.t, 0, 0});
      return s;
    }
    case LayerKind::BatchNorm:
      return {batchNorm(input(l), l)};
    case LayerKind::ReLU:
      noteReluInput(input(l));
      return {ref::reluForward(input(l))};
    case LayerKind::Add:
      return {ref::addForward(input(l, 0), input(l, 1))};
    case LayerKind::GlobalAvgPool:
      return {ref::globalAvgPoolForward(input(l))};
    case LayerKind::Linear:
      return {ref::denseForward(input(l), param(l, TensorRole::LinearWeight), param(l, TensorRole::LinearBias))};
    }
    throw std::logic_error("reference train step: unknown layer kind");
  }

  // Adds to the cotangent of the value `index` names; a residual block's input is read twice.
  void accumulate(int index, ref::Tensor g) {
    if (index < 0)
      return;  // the clips need no gradient
    ref::Tensor &slot = cotangents_[static_cast<size_t>(index)];
    if (slot.data.empty()) {
      slot = std::move(g);
      return;
    }
    for (int64_t i = 0; i < slot.elements(); ++i)
      slot.data[i] += g.data[i];
  }

  ref::Tensor batchNormBackward(const ref::Tensor &dy, const ref::Tensor &x, const Layer &l) {
    ref::BatchNormTrainGrads g = ref::batchNormTrainBackward(dy, x, param(l, TensorRole::BnGamma), graph_.bnEpsilon);
    result_.grads[l.tensorName(TensorRole::BnGamma)] = std::move(g.dgamma);
    result_.grads[l.tensorName(TensorRole::BnBeta)] = std::move(g.dbeta);
    return std::move(g.dx);
  }

  ref::Tensor convBackward(const ref::Tensor &dy, const ref::Tensor &x, const std::string &weight,
                           ref::Triple stride, ref::Triple pad, int64_t groups = 1) {
    ref::Tensor filter = tensor_(weight);
    result_.grads[weight] = ref::convBackwardFilter(x, dy, filter.shape, stride, pad, groups);
    return ref::convBackwardData(dy, filter, x.shape, stride, pad, groups);
  }

  void backward(const Layer &l, const Saved &s, const ref::Tensor &dy) {
    if (dy.data.empty())
      throw std::invalid_argument("reference train step: layer `" + l.name + "` does not reach the loss");
    switch (l.kind) {
    case LayerKind::FoldTime:
      accumulate(l.inputs[0], ref::foldTimeBackward(dy, input(l).shape));
      return;
    case LayerKind::Conv:
      accumulate(l.inputs[0],
                 convBackward(dy, input(l), l.tensorName(TensorRole::ConvWeight), triple(l.stride), triple(l.pad),
                              l.groups));
      return;
    case LayerKind::MaxPool:
      accumulate(l.inputs[0], ref::maxPoolBackward(dy, input(l), triple(l.kernel), triple(l.stride), triple(l.pad)));
      return;
    case LayerKind::Conv2Plus1d: {
      ref::Tensor dmid =
          convBackward(dy, s.mid, l.tensorName(TensorRole::TemporalWeight), {l.stride.t, 1, 1}, {l.pad.t, 0, 0});
      ref::Tensor dspatial = batchNormBackward(ref::reluBackward(dmid, s.normalized), s.spatial, l);
      accumulate(l.inputs[0], convBackward(dspatial, input(l), l.tensorName(TensorRole::SpatialWeight),
                                           {1, l.stride.h, l.stride.w}, {0, l.pad.h, l.pad.w}));
      return;
    }
    case LayerKind::BatchNorm:
      accumulate(l.inputs[0], batchNormBackward(dy, input(l), l));
      return;
    case LayerKind::ReLU:
      accumulate(l.inputs[0], ref::reluBackward(dy, input(l)));
      return;
    case LayerKind::Add: {
      ref::AddGrads g = ref::addBackward(dy);
      accumulate(l.inputs[0], std::move(g.da));
      accumulate(l.inputs[1], std::move(g.db));
      return;
    }
    case LayerKind::GlobalAvgPool:
      accumulate(l.inputs[0], ref::globalAvgPoolBackward(dy, input(l).shape));
      return;
    case LayerKind::Linear: {
      ref::DenseGrads g = ref::denseBackward(dy, input(l), param(l, TensorRole::LinearWeight));
      result_.grads[l.tensorName(TensorRole::LinearWeight)] = std::move(g.dweight);
      result_.grads[l.tensorName(TensorRole::LinearBias)] = std::move(g.dbias);
      accumulate(l.inputs[0], std::move(g.dx));
      return;
    }
    }
  }

  const ModelGraph &graph_;
  const ref::Tensor &clips_;
  const TensorFn &tensor_;
  std::vector<Saved> saved_;             // by layer
  std::vector<ref::Tensor> cotangents_;  // by layer: d loss / d output, empty until first used
  ReferenceTrainResult result_;
};

} // namespace

ReferenceTrainResult referenceTrainStep(const ModelGraph &graph, const ref::Tensor &clips,
                                        const std::vector<int64_t> &labels,
                                        const std::function<ref::Tensor(const std::string &)> &tensor) {
  return TrainStep(graph, clips, tensor).run(labels);
}

} // namespace vidnet::test
