// Names of layer kinds and small ModelGraph helpers.
#include "compiler/ModelGraph.h"

#include <stdexcept>

namespace vidnet {

std::string_view layerKindName(LayerKind kind) {
  switch (kind) {
  case LayerKind::FoldTime: return "fold_time";
  case LayerKind::Conv: return "conv";
  case LayerKind::Conv2Plus1d: return "conv(2+1)d";
  case LayerKind::BatchNorm: return "batch_norm";
  case LayerKind::ReLU: return "relu";
  case LayerKind::Add: return "add";
  case LayerKind::MaxPool: return "max_pool";
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

std::string_view tensorRoleName(TensorRole role) {
  switch (role) {
  case TensorRole::ConvWeight: return "conv_weight";
  case TensorRole::SpatialWeight: return "spatial_weight";
  case TensorRole::TemporalWeight: return "temporal_weight";
  case TensorRole::BnGamma: return "bn_gamma";
  case TensorRole::BnBeta: return "bn_beta";
  case TensorRole::BnRunningMean: return "bn_running_mean";
  case TensorRole::BnRunningVar: return "bn_running_var";
  case TensorRole::BnNumBatchesTracked: return "bn_num_batches_tracked";
  case TensorRole::LinearWeight: return "linear_weight";
  case TensorRole::LinearBias: return "linear_bias";
  }
  return "tensor";
}

TensorInfo makeTensor(std::string name, TensorRole role, std::vector<int64_t> shape) {
  TensorInfo t{std::move(name), role, std::move(shape), TensorInit::Zeros};
  switch (role) {
  case TensorRole::ConvWeight:
  case TensorRole::SpatialWeight:
  case TensorRole::TemporalWeight: t.init = TensorInit::KaimingNormalFanOut; break;
  case TensorRole::LinearWeight: t.init = TensorInit::Normal001; break;
  case TensorRole::BnGamma: t.init = TensorInit::Ones; break;
  case TensorRole::BnBeta:
  case TensorRole::LinearBias: break;
  case TensorRole::BnRunningMean: t.trainable = false; break;
  case TensorRole::BnRunningVar:
    t.init = TensorInit::Ones;
    t.trainable = false;
    break;
  case TensorRole::BnNumBatchesTracked:
    t.trainable = false;
    t.isInteger = true;
    break;
  }
  return t;
}

const TensorInfo &Layer::tensor(TensorRole role) const {
  for (const TensorInfo &t : tensors)
    if (t.role == role)
      return t;
  throw std::logic_error("layer `" + name + "` has no " + std::string(tensorRoleName(role)) + " tensor");
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
