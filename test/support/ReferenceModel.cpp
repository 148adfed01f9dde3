// Layer-by-layer interpretation of a ModelGraph with the reference ops: the eval-mode forward
// and the training step (batch-statistics BN, backward through the reference VJPs).
#include "test/support/ReferenceModel.h"

#include "runtime/reference/Backward.h"

#include <stdexcept>

namespace vidnet::test {

ref::Tensor referenceForward(const ModelGraph &graph, const ref::Tensor &clips,
                             const std::function<ref::Tensor(const std::string &)> &tensor, ref::Tensor *features) {
  std::vector<ref::Tensor> values;
  auto input = [&](const Layer &l, size_t i = 0) -> const ref::Tensor & {
    return l.inputs.at(i) < 0 ? clips : values.at(static_cast<size_t>(l.inputs[i]));
  };
  auto bn = [&](const ref::Tensor &x, const std::vector<TensorInfo> &t, size_t first) {
    return ref::batchNormForward(x, tensor(t[first].name), tensor(t[first + 1].name), tensor(t[first + 2].name),
                                 tensor(t[first + 3].name));
  };
  for (const Layer &l : graph.layers) {
    switch (l.kind) {
    case LayerKind::FoldTime:
      values.push_back(ref::foldTimeForward(input(l)));
      break;
    case LayerKind::Conv:
      values.push_back(ref::convForward(input(l), tensor(l.tensors[0].name), {l.stride.t, l.stride.h, l.stride.w},
                                        {l.pad.t, l.pad.h, l.pad.w}));
      break;
    case LayerKind::Conv2Plus1d: {
      // Tran et al. Sec. 3.5: spatial 1 x d x d with the H/W stride, BN, ReLU, temporal t x 1 x 1.
      ref::Tensor spatial = ref::convForward(input(l), tensor(l.tensors[0].name), {1, l.stride.h, l.stride.w},
                                             {0, l.pad.h, l.pad.w});
      ref::Tensor mid = ref::reluForward(bn(spatial, l.tensors, 1));
      values.push_back(ref::convForward(mid, tensor(l.tensors[6].name), {l.stride.t, 1, 1}, {l.pad.t, 0, 0}));
      break;
    }
    case LayerKind::BatchNorm:
      values.push_back(bn(input(l), l.tensors, 0));
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
      values.push_back(ref::denseForward(input(l), tensor(l.tensors[0].name), tensor(l.tensors[1].name)));
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

  // tensors[first..first+3] are weight, bias, running_mean, running_var; the running ones are
  // not read in training mode, only named in the batch statistics reported.
  ref::Tensor batchNorm(const ref::Tensor &x, const std::vector<TensorInfo> &t, size_t first) {
    ref::BatchNormTrainResult r = ref::batchNormTrainForward(x, tensor_(t[first].name), tensor_(t[first + 1].name));
    result_.batchMean[t[first + 2].name] = std::move(r.mean);
    result_.batchVar[t[first + 3].name] = std::move(r.var);
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
      return {ref::convForward(input(l), tensor_(l.tensors[0].name), triple(l.stride), triple(l.pad))};
    case LayerKind::Conv2Plus1d: {
      Saved s;
      s.spatial = ref::convForward(input(l), tensor_(l.tensors[0].name), {1, l.stride.h, l.stride.w},
                                   {0, l.pad.h, l.pad.w});
      s.normalized = batchNorm(s.spatial, l.tensors, 1);
      s.mid = ref::reluForward(s.normalized);
      noteReluInput(s.normalized);
      s.output = ref::convForward(s.mid, tensor_(l.tensors[6].name), {l.stride.t, 1, 1}, {l.pad.t, 0, 0});
      return s;
    }
    case LayerKind::BatchNorm:
      return {batchNorm(input(l), l.tensors, 0)};
    case LayerKind::ReLU:
      noteReluInput(input(l));
      return {ref::reluForward(input(l))};
    case LayerKind::Add:
      return {ref::addForward(input(l, 0), input(l, 1))};
    case LayerKind::GlobalAvgPool:
      return {ref::globalAvgPoolForward(input(l))};
    case LayerKind::Linear:
      return {ref::denseForward(input(l), tensor_(l.tensors[0].name), tensor_(l.tensors[1].name))};
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

  ref::Tensor batchNormBackward(const ref::Tensor &dy, const ref::Tensor &x, const std::vector<TensorInfo> &t,
                                size_t first) {
    ref::BatchNormTrainGrads g = ref::batchNormTrainBackward(dy, x, tensor_(t[first].name));
    result_.grads[t[first].name] = std::move(g.dgamma);
    result_.grads[t[first + 1].name] = std::move(g.dbeta);
    return std::move(g.dx);
  }

  ref::Tensor convBackward(const ref::Tensor &dy, const ref::Tensor &x, const std::string &weight,
                           ref::Triple stride, ref::Triple pad) {
    ref::Tensor filter = tensor_(weight);
    result_.grads[weight] = ref::convBackwardFilter(x, dy, filter.shape, stride, pad);
    return ref::convBackwardData(dy, filter, x.shape, stride, pad);
  }

  void backward(const Layer &l, const Saved &s, const ref::Tensor &dy) {
    if (dy.data.empty())
      throw std::invalid_argument("reference train step: layer `" + l.name + "` does not reach the loss");
    switch (l.kind) {
    case LayerKind::FoldTime:
      accumulate(l.inputs[0], ref::foldTimeBackward(dy, input(l).shape));
      return;
    case LayerKind::Conv:
      accumulate(l.inputs[0], convBackward(dy, input(l), l.tensors[0].name, triple(l.stride), triple(l.pad)));
      return;
    case LayerKind::Conv2Plus1d: {
      ref::Tensor dmid = convBackward(dy, s.mid, l.tensors[6].name, {l.stride.t, 1, 1}, {l.pad.t, 0, 0});
      ref::Tensor dspatial = batchNormBackward(ref::reluBackward(dmid, s.normalized), s.spatial, l.tensors, 1);
      accumulate(l.inputs[0], convBackward(dspatial, input(l), l.tensors[0].name, {1, l.stride.h, l.stride.w},
                                           {0, l.pad.h, l.pad.w}));
      return;
    }
    case LayerKind::BatchNorm:
      accumulate(l.inputs[0], batchNormBackward(dy, input(l), l.tensors, 0));
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
      ref::DenseGrads g = ref::denseBackward(dy, input(l), tensor_(l.tensors[0].name));
      result_.grads[l.tensors[0].name] = std::move(g.dweight);
      result_.grads[l.tensors[1].name] = std::move(g.dbias);
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
