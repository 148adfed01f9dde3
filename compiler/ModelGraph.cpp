// Names of layer kinds and small ModelGraph helpers.
#include "compiler/ModelGraph.h"

namespace vidnet {

std::string_view layerKindName(LayerKind kind) {
  switch (kind) {
  case LayerKind::FoldTime: return "fold_time";
  case LayerKind::Conv: return "conv";
  case LayerKind::Conv2Plus1d: return "conv(2+1)d";
  case LayerKind::BatchNorm: return "batch_norm";
  case LayerKind::ReLU: return "relu";
  case LayerKind::Add: return "add";
  case LayerKind::GlobalAvgPool: return "avg_pool";
  case LayerKind::Linear: return "linear";
  }
  return "layer";
}

std::string_view tensorInitName(TensorInit init) {
  switch (init) {
  case TensorInit::KaimingNormalFanOut: return "kaiming_normal_fan_out";
  case TensorInit::Normal001: return "normal_0.01";
  case TensorInit::Zeros: return "zeros";
  case TensorInit::Ones: return "ones";
  }
  return "zeros";
}

std::string toString(const Shape &s) {
  return std::to_string(s.c) + "x" + std::to_string(s.l) + "x" + std::to_string(s.h) + "x" +
         std::to_string(s.w);
}

std::string toString(const Dims3 &d) {
  return std::to_string(d.t) + "x" + std::to_string(d.h) + "x" + std::to_string(d.w);
}

int64_t ModelGraph::featureWidth() const {
  return layers.at(static_cast<size_t>(layers.back().inputs.at(0))).output.c;
}

int64_t paperMid(int64_t t, int64_t d, int64_t inChannels, int64_t outChannels) {
  // Computed in 128 bits: the numerator overflows 64 bits for channel counts near 2^31.
  __int128 num = static_cast<__int128>(t) * d * d * inChannels * outChannels;
  __int128 den = static_cast<__int128>(d) * d * inChannels + static_cast<__int128>(t) * outChannels;
  return den == 0 ? 0 : static_cast<int64_t>(num / den);
}

} // namespace vidnet
