// A compiled bundle and a model instance that owns its parameter and state buffers: open,
// initialize as torchvision does, load/save safetensors in PyTorch layout, run forward.
#pragma once

#include "runtime/core/LoopProfile.h"
#include "runtime/core/Manifest.h"

#include <cstdlib>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vidnet::rt {

using ForwardFn = void (*)(const float *clips, const float *params, const float *state, const float *prepared,
                           float *logits, float *features);
using PrepareFn = void (*)(const float *params, const float *state, float *prepared);
using PreparedElementsFn = int64_t (*)();
using TrainStepFn = void (*)(const float *clips, const int64_t *labels, const float *params, const float *state,
                             const float *momentum, const float *hyper, float *newParams, float *newState,
                             float *newMomentum, float *loss, float *logits);

class CudaExecutor;

class Bundle {
public:
  // Reads and checks DIR/manifest.json. A CPU bundle: checks that this CPU has the features the
  // code was compiled for and loads the shared object. A CUDA bundle: loads the driver
  // (dlopen libcuda.so.1), the kernels and the device buffers, so a machine without a GPU is
  // told so here, once.
  static std::unique_ptr<Bundle> open(const std::string &dir, std::string &error);
  ~Bundle();
  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  const Manifest &manifest() const { return manifest_; }
  const std::string &dir() const { return dir_; }
  bool hasTrainStep() const { return !manifest_.trainStepSymbol.empty(); }
  bool onGpu() const { return cuda_ != nullptr; }
  std::string deviceName() const;  // "cpu (emeraldrapids)" or the GPU's name
  const CudaExecutor *gpu() const { return cuda_.get(); }  // null for a CPU bundle
  // The parallel loops of a CPU bundle's forward or train_step (for LoopTimer and `vidrun
  // profile`); nullopt with the reason in `error` for a GPU bundle, an entry point the bundle
  // lacks, or a bundle compiled before vidc wrote loop tables.
  std::optional<std::vector<LoopRow>> loops(bool trainStep, std::string &error) const;

  // The compiled entry points on compiled-layout buffers: the shared object's functions, or
  // the kernels on the GPU (inputs uploaded, outputs downloaded). Return false with the reason
  // when the GPU fails (a CPU entry point cannot fail). Not reentrant on the GPU.
  // `params`, `state`: what prepare() was last given; the CPU reads `prepared`, what prepare()
  // wrote from them, and the GPU the copies prepare() uploaded, unless another `owner` (a
  // Model: several may share one bundle) uploaded its own since, when they are copied again.
  bool forward(const float *clips, const float *params, const float *state, const float *prepared, float *logits,
               float *features, const void *owner, std::string &error) const;
  // The weights the forward reads, made ready from params and state: on the CPU, packed for its
  // tiles into preparedElements() floats; on the GPU, uploaded once for every forward after it
  // (133 MB for r3d_18: 40% of a batch-2 forward when copied per call). Fails only on the GPU.
  bool prepare(const float *params, const float *state, float *prepared, const void *owner,
               std::string &error) const;
  int64_t preparedElements() const { return preparedElements_; }
  // `continuesOnDevice`: on the GPU, params, state and momentum equal the outputs of the last
  // train step, which are taken from the device instead of the host if `owner` ran that step.
  bool trainStep(const float *clips, const int64_t *labels, const float *params, const float *state,
                 const float *momentum, const float *hyper, float *newParams, float *newState, float *newMomentum,
                 float *loss, float *logits, bool continuesOnDevice, const void *owner, std::string &error) const;

private:
  Bundle() = default;
  std::string dir_;
  Manifest manifest_;
  void *library_ = nullptr;
  ForwardFn forward_ = nullptr;
  PrepareFn prepare_ = nullptr;
  int64_t preparedElements_ = 0;
  TrainStepFn trainStep_ = nullptr;
  std::unique_ptr<CudaExecutor> cuda_;
  // Whose weights the GPU's forward buffers hold, and whose step its train_step outputs are.
  mutable const void *forwardOwner_ = nullptr, *stepOwner_ = nullptr;
};

// torch.optim.SGD's hyper-parameters (dampening 0, no Nesterov).
struct SgdHyper {
  float lr = 0.01f, momentum = 0.9f, weightDecay = 0.0f;
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
  // Initialized with `seed` (initialize).
  explicit Model(const Bundle &bundle, uint64_t seed = 0);
  // A model holding a safetensors file's weights (loadWeights, with its `replaceHead` and
  // `seed`), never drawing the initial weights the file replaces (r3d_18's: 0.8 s of the 2.5 s
  // `vidrun forward --weights` took on 2 threads); null, with the reason, when the load fails.
  static std::unique_ptr<Model> fromWeights(const Bundle &bundle, const std::string &path, std::string &error,
                                            bool replaceHead = false, uint64_t seed = 0);

  // torchvision's rules (manifest `init`): Kaiming normal fan_out for convs, BN 1 and 0,
  // fc N(0, 0.01) and 0, running mean 0 and variance 1; counters 0. Same seed, same weights.
  void initialize(uint64_t seed);
  // Every tensor of the bundle must be in the file with its PyTorch shape (F32; F64 and F16/BF16
  // are converted); extra tensors are an error. num_batches_tracked may be missing (it is 0 then).
  // SGD momentum buffers, `momentum_buffer.NAME`, are loaded when the file has them (all or
  // none) and reset to zero when it has none. With `replaceHead`, the classifier (`fc.*`) is
  // neither read nor checked and is re-initialized with `seed`, and the momentum buffers start
  // at zero whatever the file holds (fine-tuning on new classes, a fresh optimizer).
  // On failure the model is unchanged.
  bool loadWeights(const std::string &path, std::string &error, bool replaceHead = false, uint64_t seed = 0);
  // PyTorch layout and torchvision names; written to a temporary file and renamed. With
  // `withMomentum`, the SGD momentum buffers too (a training checkpoint).
  bool saveWeights(const std::string &path, std::string &error, bool withMomentum = false) const;

  // clips: n x C x L x H x W float32 (torchvision's layout), logits: n x classes. Any n >= 1:
  // chunks of the compiled forward's batch (the last one zero-padded) run on up to
  // `threads()` worker threads (one on the GPU). On the CPU, whole groups of `threads()` clips run
  // one clip per thread, the rest one at a time on every thread (the same bits either way).
  // Eval-mode BN. `features`, when given, receives the n x manifest().featureSize pooled vectors
  // the classifier reads. Fails (with the reason) only when the GPU does.
  bool forward(const float *clips, int64_t n, float *logits, float *features, std::string &error);
  bool forward(const float *clips, int64_t n, float *logits, std::string &error) {
    return forward(clips, n, logits, nullptr, error);
  }
  // One SGD step (training-mode BN) on exactly manifest().trainBatch clips, n x C x L x H x W,
  // labels in [0, classes): updates weights, BN statistics and momentum buffers, counts the
  // batch in num_batches_tracked; the loss and the logits (before the update) come back.
  // Fails without touching the model on a bad label or a bundle without train_step.
  bool trainStep(const float *clips, const int64_t *labels, const SgdHyper &hyper, float &loss, float *logits,
                 std::string &error);
  void resetMomentum();

  // Worker threads for forward: VIDNET_THREADS if set, else the hardware's.
  static int threads();
  // Whether forward may run a batch's clips one per thread (the default); `vidrun profile
  // --serial-clips` runs them one at a time.
  void setClipPerThread(bool on) { clipPerThread_ = on; }
  // How many of a batch of n clips forward runs one per thread: a multiple of threads(), 0 where
  // it runs them one call at a time (a GPU bundle, one thread, a bundle compiled for batches).
  int64_t concurrentClips(int64_t n) const;

  const Bundle &bundle() const { return bundle_; }
  // Writable: the prepared weights are recomputed before the next forward, and a GPU step reads
  // them from the host again.
  float *params() {
    preparedStale_ = true;
    stepOnDevice_ = false;
    return params_.data();
  }
  float *state() {
    preparedStale_ = true;
    stepOnDevice_ = false;
    return state_.data();
  }
  const float *params() const { return params_.data(); }
  const float *state() const { return state_.data(); }
  float *momentum() {
    stepOnDevice_ = false;
    return momentum_.data();
  }

private:
  // Buffers allocated, weights not drawn: only for fromWeights, whose load overwrites them all.
  struct Undrawn {};
  Model(const Bundle &bundle, Undrawn);

  const Bundle &bundle_;
  FloatBuffer params_, state_, momentum_;
  FloatBuffer nextParams_, nextState_, nextMomentum_, stagedClips_;  // train_step's outputs, swapped in
  std::vector<int64_t> counters_;  // one per host tensor (num_batches_tracked), manifest order
  bool clipPerThread_ = true;
  // The bundle's prepared weights, computed from params_ and state_ by the first forward after
  // they change (initialize, loadWeights, trainStep, a caller writing through params() or
  // state()), not by every call: mc3_18 packs 41 MB of filters.
  FloatBuffer prepared_;
  bool preparedStale_ = true;
  bool prepareWeights(std::string &error);
  // Whether params_, state_ and momentum_ are what the last GPU train step left on the device,
  // so that the next step starts from there (saves uploading the weights and momentum).
  bool stepOnDevice_ = false;

  // One call of the compiled forward on count <= manifest().forwardBatch clips (the rest of its
  // batch zeros), through buffers of that batch; logits and features of those clips only.
  bool forwardCall(const float *clips, int64_t count, FloatBuffer &staged, FloatBuffer &out, FloatBuffer &pooled,
                   float *logits, float *features, std::string &error) const;
  // Clips [0, n) one per thread, n a multiple of threads().
  void forwardClipPerThread(const float *clips, int64_t n, float *logits, float *features) const;
};

} // namespace vidnet::rt
