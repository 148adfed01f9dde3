// A compiled bundle and a model instance that owns its parameter and state buffers: open,
// initialize as torchvision does, load/save safetensors in PyTorch layout, run forward.
#pragma once

#include "runtime/core/Manifest.h"

#include <cstdlib>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vidnet::rt {

using ForwardFn = void (*)(const float *clips, const float *params, const float *state, float *logits);

class Bundle {
public:
  // Reads and checks DIR/manifest.json, checks that this CPU has the features the code was
  // compiled for, and loads the shared object and its entry point.
  static std::unique_ptr<Bundle> open(const std::string &dir, std::string &error);
  ~Bundle();
  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  const Manifest &manifest() const { return manifest_; }
  const std::string &dir() const { return dir_; }
  ForwardFn forward() const { return forward_; }

private:
  Bundle() = default;
  std::string dir_;
  Manifest manifest_;
  void *library_ = nullptr;
  ForwardFn forward_ = nullptr;
};

// 64-byte aligned float storage, zero-initialized.
class FloatBuffer {
public:
  explicit FloatBuffer(int64_t elements = 0);
  float *data() { return data_.get(); }
  const float *data() const { return data_.get(); }
  int64_t size() const { return size_; }

private:
  struct Free {
    void operator()(float *p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> data_;
  int64_t size_ = 0;
};

class Model {
public:
  explicit Model(const Bundle &bundle);

  // torchvision's rules (manifest `init`): Kaiming normal fan_out for convs, BN 1 and 0,
  // fc N(0, 0.01) and 0, running mean 0 and variance 1; counters 0. Same seed, same weights.
  void initialize(uint64_t seed);
  // Every tensor of the bundle must be in the file with its PyTorch shape (F32; F64 and F16/BF16
  // are converted); extra tensors are an error. num_batches_tracked may be missing (it is 0 then).
  // On failure the model is unchanged.
  bool loadWeights(const std::string &path, std::string &error);
  // PyTorch layout and torchvision names; written to a temporary file and renamed.
  bool saveWeights(const std::string &path, std::string &error) const;

  // clips: n x C x L x H x W float32 (torchvision's layout), logits: n x classes. Any n >= 1:
  // chunks of the compiled forward's batch (the last one zero-padded) run on up to
  // `threads()` worker threads. Eval-mode BN.
  void forward(const float *clips, int64_t n, float *logits);
  // Worker threads for forward: VIDNET_THREADS if set, else the hardware's.
  static int threads();

  const Bundle &bundle() const { return bundle_; }
  float *params() { return params_.data(); }
  float *state() { return state_.data(); }

private:
  const Bundle &bundle_;
  FloatBuffer params_, state_;
  std::vector<int64_t> counters_;  // one per host tensor (num_batches_tracked), manifest order
};

} // namespace vidnet::rt
