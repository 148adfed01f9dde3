// Builds manifest.json from the model graph, the buffer layout and the target.
#include "compiler/bundle/Manifest.h"

#include "common/OpArithmetic.h"

#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <map>

namespace vidnet {
namespace {

// compiled = pytorch.permute(permutation): conv O,I,T,H,W -> T,H,W,I,O; fc O,I -> I,O.
std::vector<int> toCompiledPermutation(size_t rank) {
  if (rank == 5)
    return {2, 3, 4, 1, 0};
  if (rank == 2)
    return {1, 0};
  std::vector<int> identity(rank);
  for (size_t i = 0; i < rank; ++i)
    identity[i] = static_cast<int>(i);
  return identity;
}

nlohmann::ordered_json initializer(const TensorInfo &t) {
  nlohmann::ordered_json j;
  j["rule"] = tensorInitName(t.init);
  switch (t.init) {
  case TensorInit::KaimingNormalFanOut: {
    // fan_out = output channels x receptive field (PyTorch's _calculate_fan_in_and_fan_out).
    double fanOut = static_cast<double>(t.shape[0]);
    for (size_t i = 2; i < t.shape.size(); ++i)
      fanOut *= static_cast<double>(t.shape[i]);
    j["dist"] = "normal";
    j["mean"] = 0.0;
    j["std"] = std::sqrt(2.0 / fanOut);  // gain sqrt(2) for relu
    break;
  }
  case TensorInit::Normal001:
    j["dist"] = "normal";
    j["mean"] = 0.0;
    j["std"] = 0.01;
    break;
  case TensorInit::Zeros:
  case TensorInit::Ones:
    j["dist"] = "constant";
    j["value"] = t.init == TensorInit::Ones ? 1.0 : 0.0;
    break;
  }
  return j;
}

std::string sha256Hex(const std::string &text) {
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(text));
  return llvm::toHex(digest, /*LowerCase=*/true);
}

} // namespace

nlohmann::ordered_json bundleManifest(const ManifestInputs &in, std::string &error) {
  const ModelGraph &g = in.graph;
  std::map<std::string, const BufferSlot *> slots;
  for (const BufferSlot &s : in.layout.slots)
    slots[s.name] = &s;

  nlohmann::ordered_json m;
  m["format"] = bundle::kFormat;
  m["version"] = bundle::kManifestVersion;
  m["model"] = g.name;
  m["spec"] = {{"path", g.specPath}, {"sha256", sha256Hex(in.specText)}};
  m["target"] = {{"kind", "cpu"}, {"triple", in.target.triple}, {"cpu", in.target.cpu},
                 {"features", in.target.features}};
  m["batch"] = in.batch;
  m["classes"] = g.classes;
  m["input"] = {{"shape", {in.batch, g.input.c, g.input.l, g.input.h, g.input.w}},
                {"layout", "NCDHW"},
                {"compiled_layout", "NDHWC"}};
  m["parameters"] = g.params;
  m["macs_per_clip"] = g.macs;
  m["library"] = in.library;
  m["buffers"] = {{"params", {{"elements", in.layout.paramElements}, {"alignment_bytes", 4 * kBufferAlignment}}},
                  {"state", {{"elements", in.layout.stateElements}, {"alignment_bytes", 4 * kBufferAlignment}}}};
  m["entry_points"] = {
      {"forward",
       {{"symbol", "vidnet_forward"},
        {"signature", "void(const float *clips, const float *params, const float *state, float *logits, float *features)"},
        {"batch", in.forwardClipsPerCall},
        {"clips", {in.forwardClipsPerCall, g.input.l, g.input.h, g.input.w, g.input.c}},
        {"logits", {in.forwardClipsPerCall, g.classes}},
        {"features", {in.forwardClipsPerCall, g.featureWidth()}},
        {"bn", "eval"}}}};
  if (in.prepare) {
    nlohmann::ordered_json &forward = m["entry_points"]["forward"];
    forward["signature"] = "void(const float *clips, const float *params, const float *state, const float *prepared, "
                           "float *logits, float *features)";
    // Filters packed for the forward's tiles: computed from the weights once, not per clip.
    forward["prepare"] = {{"symbol", "vidnet_forward_prepare"},
                          {"signature", "void(const float *params, const float *state, float *prepared)"},
                          {"elements_symbol", "vidnet_forward_prepared_elements"},
                          {"elements_signature", "int64_t(void)"}};
  }
  if (in.trainStep) {
    m["buffers"]["momentum"] = {{"elements", in.layout.paramElements}, {"layout", "params"}};
    m["entry_points"]["train_step"] = {
        {"symbol", "vidnet_train_step"},
        {"signature", "void(const float *clips, const int64_t *labels, const float *params, const float *state, "
                      "const float *momentum, const float *hyper, float *new_params, float *new_state, "
                      "float *new_momentum, float *loss, float *logits)"},
        {"batch", in.batch},
        {"clips", {in.batch, g.input.l, g.input.h, g.input.w, g.input.c}},
        {"labels", {in.batch}},
        {"hyper", {"lr", "momentum", "weight_decay"}},
        {"logits", {in.batch, g.classes}},
        {"loss", "mean softmax cross-entropy"},
        {"bn", "train"},
        {"optimizer", "torch.optim.SGD (d = g + wd w; buf = momentum buf + d; w -= lr buf)"},
        {"bn_momentum", kBatchNormMomentum}};
  }

  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const Layer &l : g.layers)
    for (const TensorInfo &t : l.tensors) {
      nlohmann::ordered_json j;
      j["name"] = t.name;
      j["role"] = tensorRoleName(t.role);
      j["dtype"] = t.isInteger ? "I64" : "F32";
      j["shape"] = t.shape;
      j["trainable"] = t.trainable;
      if (t.isInteger) {
        // num_batches_tracked: kept by the runtime for PyTorch compatibility, never compiled.
        j["buffer"] = "host";
      } else {
        auto it = slots.find(t.name);
        if (it == slots.end()) {
          error = "internal error: tensor '" + t.name + "' has no place in the buffer layout";
          return nullptr;
        }
        j["buffer"] = it->second->state ? "state" : "params";
        j["offset"] = it->second->offset;
        j["compiled_shape"] = it->second->shape;
        j["permutation"] = toCompiledPermutation(t.shape.size());
      }
      j["init"] = initializer(t);
      tensors.push_back(std::move(j));
    }
  m["tensors"] = std::move(tensors);
  return m;
}

nlohmann::ordered_json fileRecord(const std::string &contents) {
  return {{"bytes", contents.size()}, {"sha256", sha256Hex(contents)}};
}

} // namespace vidnet
