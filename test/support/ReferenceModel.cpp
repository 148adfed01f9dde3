// Layer-by-layer interpretation of a ModelGraph with the reference ops (eval-mode BN).
#include "test/support/ReferenceModel.h"

namespace vidnet::test {

ref::Tensor referenceForward(const ModelGraph &graph, const ref::Tensor &clips,
                             const std::function<ref::Tensor(const std::string &)> &tensor) {
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
      values.push_back(ref::denseForward(input(l), tensor(l.tensors[0].name), tensor(l.tensors[1].name)));
      break;
    }
  }
  return values.back();
}

} // namespace vidnet::test
