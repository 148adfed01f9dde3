// Bundle loading (manifest, CPU check, dlopen or CUDA executor) and the model's buffers,
// weights and forward.
#include "runtime/core/Model.h"

#include "common/BundleFormat.h"
#include "runtime/cuda/CudaExecutor.h"

#include "runtime/core/LoopProfile.h"
#include "runtime/core/ParallelFor.h"
#include "runtime/core/Random.h"
#include "runtime/io/ClipArrays.h"
#include "runtime/io/Safetensors.h"
#include "runtime/io/ShapeText.h"

#include <algorithm>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <malloc.h>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace vidnet::rt {
namespace {

// The x86 features whose absence would make compiled code die with SIGILL.
bool cpuLacksFeature(const std::string &features, std::string &missing) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  const std::pair<const char *, bool> known[] = {
      {"+avx", __builtin_cpu_supports("avx")},           {"+avx2", __builtin_cpu_supports("avx2")},
      {"+fma", __builtin_cpu_supports("fma")},           {"+avx512f", __builtin_cpu_supports("avx512f")},
      {"+avx512bw", __builtin_cpu_supports("avx512bw")}, {"+avx512dq", __builtin_cpu_supports("avx512dq")},
      {"+avx512vl", __builtin_cpu_supports("avx512vl")}, {"+avx512bf16", __builtin_cpu_supports("avx512bf16")},
  };
  std::string list = "," + features + ",";
  for (auto [name, present] : known)
    if (!present && list.find("," + std::string(name) + ",") != std::string::npos)
      missing += (missing.empty() ? "" : " ") + std::string(name + 1);
#else
  (void)features;
#endif
  return !missing.empty();
}

// dst = src.permute(perm), both dense row-major; src has shape `shape`.
template <typename T>
void permute(const T *src, const std::vector<int64_t> &shape, const std::vector<int> &perm, T *dst) {
  const size_t rank = shape.size();
  std::vector<int64_t> srcStrides(rank, 1), dstShape(rank), along(rank);
  for (size_t i = rank; i-- > 1;)
    srcStrides[i - 1] = srcStrides[i] * shape[i];
  int64_t total = 1;
  for (size_t i = 0; i < rank; ++i) {
    dstShape[i] = shape[perm[i]];
    along[i] = srcStrides[perm[i]]; // src's step along dst's dimension i
    total *= dstShape[i];
  }
  // The source offset follows a destination index incrementally (an odometer over `dims`), instead
  // of being recomputed from every dimension per element: loading r3d_18's weights is 33M elements.
  auto odometer = [&](size_t dims, std::vector<int64_t> &index, int64_t &srcOffset, int64_t &dstOffset,
                      const std::vector<int64_t> &dstStrides) {
    for (size_t i = dims; i-- > 0;) {
      srcOffset += along[i];
      dstOffset += dstStrides[i];
      if (++index[i] < dstShape[i])
        return;
      srcOffset -= along[i] * dstShape[i];
      dstOffset -= dstStrides[i] * dstShape[i];
      index[i] = 0;
    }
  };
  std::vector<int64_t> index(rank, 0);
  if (rank < 2 || along[rank - 1] == 1) {
    std::vector<int64_t> unit(rank, 1);
    int64_t offset = 0, unused = 0;
    for (int64_t n = 0; n < total; ++n) {
      dst[n] = src[offset];
      odometer(rank, index, offset, unused, unit);
    }
    return;
  }
  // dst's rows read src a stride apart (a conv filter [F, C, kd, kh, kw] into [kd, kh, kw, C, F]:
  // C x 27 floats): element by element, each read was a new line. In tiles of dst's last two
  // dimensions with the others inside, a tile's source lines serve every outer index (all taps of
  // its filters and channels) while they are in cache: a 512 x 512 x 3x3x3 filter six times faster
  // than element by element, which took 40% of `vidrun forward` of r3d_18 (loading, one call).
  constexpr int64_t kTile = 16;
  const int64_t rows = dstShape[rank - 2], columns = dstShape[rank - 1], rowStep = along[rank - 2],
                columnStep = along[rank - 1];
  std::vector<int64_t> dstStrides(rank, 1);
  for (size_t i = rank; i-- > 1;)
    dstStrides[i - 1] = dstStrides[i] * dstShape[i];
  const int64_t outer = total / (rows * columns);
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < columns; c0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(columns, c0 + kTile);
      int64_t srcOuter = 0, dstOuter = 0;
      std::fill(index.begin(), index.end(), 0);
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c)
            dst[dstOuter + r * columns + c] = src[srcOuter + r * rowStep + c * columnStep];
        odometer(rank - 2, index, srcOuter, dstOuter, dstStrides);
      }
    }
}

std::vector<int> inverse(const std::vector<int> &perm) {
  std::vector<int> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inv[perm[i]] = static_cast<int>(i);
  return inv;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

// Converts a stored float tensor to f32; false for non-float dtypes.
bool toFloat32(const SafeTensor &t, std::vector<float> &out) {
  // The dtype is matched once, not per element: a string compare per element was 10% of the time
  // `vidrun forward --weights` took for r3d_18.
  const bool f32 = t.dtype == "F32", f64 = t.dtype == "F64", f16 = t.dtype == "F16", bf16 = t.dtype == "BF16";
  if (!f32 && !f64 && !f16 && !bf16)
    return false;
  const size_t n = t.data.size() / safetensorsDtypeSize(t.dtype);
  out.resize(n);
  const char *p = t.data.data();
  if (f32) {
    std::memcpy(out.data(), p, 4 * n);
  } else if (f64) {
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      out[i] = static_cast<float>(d);
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      if (f16) {
        out[i] = halfToFloat(h);
      } else {
        uint32_t bits = uint32_t(h) << 16;
        std::memcpy(&out[i], &bits, 4);
      }
    }
  }
  return true;
}

// One tensor from its manifest initializer (torchvision's rule), drawn from `rng` in PyTorch
// order and stored in the compiled layout at `dst`; `values` is scratch. A normal tensor's
// uniforms are drawn in order, a block at a time, and turned into samples on the runtime's
// threads: the logarithms and cosines were most of the time (r3d_18's 33 M weights took 1.5 s
// on one thread, and every vidrun command draws them at least once).
void drawInitial(const ManifestTensor &t, Random &rng, std::vector<float> &values, float *dst) {
  const int64_t n = t.elements();
  values.resize(static_cast<size_t>(n));
  if (t.initDist != "normal") {
    std::fill(values.begin(), values.end(), static_cast<float>(t.initValue));
  } else {
    constexpr int64_t kBlock = 1 << 16;
    struct Samples {
      const double *uniforms;
      float *out;
      double mean, std;
    };
    std::vector<double> uniforms(static_cast<size_t>(2 * std::min(n, kBlock)));
    for (int64_t begin = 0; begin < n; begin += kBlock) {
      const int64_t count = std::min(kBlock, n - begin);
      for (int64_t i = 0; i < 2 * count; ++i)
        uniforms[i] = rng.uniform();
      Samples samples{uniforms.data(), values.data() + begin, t.initMean, t.initStd};
      parallelFor(
          [](void *arguments, int64_t first, int64_t end) {
            const Samples &s = *static_cast<const Samples *>(arguments);
            for (int64_t i = first; i < end; ++i)
              s.out[i] = static_cast<float>(Random::normalOf(s.uniforms[2 * i], s.uniforms[2 * i + 1], s.mean, s.std));
          },
          &samples, count);
    }
  }
  permute(values.data(), t.shape, t.permutation, dst);
}

// The compiled entry points malloc their intermediate tensors on every call and free them before
// returning. glibc serves blocks over its mmap threshold with fresh mappings and gives the top
// of the heap back past its trim threshold, so every step would fault in and zero its
// activations again (14% of an r3d_18 training step, measured with perf). Serving every block
// from the heap and never trimming it keeps those pages between calls. Process-wide, once.
// Trimming is off altogether (-1, as mallopt(3) documents), not merely above INT_MAX bytes: a
// batch-8 mc3_18 step frees more than 2 GiB at once, and with that threshold it faulted in
// 2.1 GB of fresh pages on every step.
void keepFreedMemory() {
#if defined(__GLIBC__)
  static const bool done = [] {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);
    return true;
  }();
  (void)done;
#endif
}

} // namespace

std::unique_ptr<Bundle> Bundle::open(const std::string &dir, std::string &error) {
  std::unique_ptr<Bundle> b(new Bundle());
  b->dir_ = dir;
  std::string manifestPath = dir + "/" + bundle::kManifestFile;
  std::ifstream in(manifestPath, std::ios::binary);
  if (!in) {
    error = dir + ": not a bundle (cannot read manifest.json: " + std::strerror(errno) + ")";
    return nullptr;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (!parseManifest(manifestPath, text.str(), b->manifest_, error))
    return nullptr;
  if (b->manifest_.targetKind == "cuda") {
    CudaPlan plan;
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
    if (!parseCudaPlan(j.at("cuda"), plan, error)) {
      error = manifestPath + ": " + error;
      return nullptr;
    }
    if (!verifyBundleFile(dir, b->manifest_, plan.cubinFile, error) ||
        !verifyBundleFile(dir, b->manifest_, plan.ptxFile, error))
      return nullptr;
    b->cuda_ = CudaExecutor::open(dir, plan, error);
    if (!b->cuda_) {
      error = dir + " (compiled for " + b->manifest_.gpuArch + "): " + error;
      return nullptr;
    }
    return b;
  }
  std::string missing;
  if (cpuLacksFeature(b->manifest_.features, missing)) {
    error = dir + ": compiled for " + b->manifest_.cpu + ", but this CPU lacks " + missing +
            " (rebuild it here, or with vidc build --cpu for an older CPU)";
    return nullptr;
  }
  // A truncated or altered library would fault inside dlopen or a call (SIGBUS, SIGSEGV).
  if (!verifyBundleFile(dir, b->manifest_, b->manifest_.library, error))
    return nullptr;
  keepFreedMemory();
  std::string library = dir + "/" + b->manifest_.library;
  b->library_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!b->library_) {
    const char *why = dlerror();
    error = library + ": cannot load: " + (why ? why : "unknown error");
    return nullptr;
  }
  connectParallelHook(b->library_);
  // The entry point `symbol`, or null with the error set.
  auto entryPoint = [&](const std::string &symbol) -> void * {
    void *found = dlsym(b->library_, symbol.c_str());
    if (!found)
      error = library + ": no entry point '" + symbol + "'";
    return found;
  };
  b->forward_ = reinterpret_cast<ForwardFn>(entryPoint(b->manifest_.forwardSymbol));
  if (!b->forward_)
    return nullptr;
  b->prepare_ = reinterpret_cast<PrepareFn>(entryPoint(b->manifest_.prepareSymbol));
  if (!b->prepare_)
    return nullptr;
  auto elements = reinterpret_cast<PreparedElementsFn>(entryPoint(b->manifest_.preparedElementsSymbol));
  if (!elements)
    return nullptr;
  b->preparedElements_ = elements();
  if (b->preparedElements_ < 0) {
    error = library + ": " + b->manifest_.preparedElementsSymbol + "() is negative";
    return nullptr;
  }
  if (!b->manifest_.trainStepSymbol.empty()) {
    b->trainStep_ = reinterpret_cast<TrainStepFn>(entryPoint(b->manifest_.trainStepSymbol));
    if (!b->trainStep_)
      return nullptr;
  }
  return b;
}

Bundle::~Bundle() {
  if (library_)
    dlclose(library_);
}

std::string Bundle::deviceName() const { return cuda_ ? cuda_->deviceName() : "cpu (" + manifest_.cpu + ")"; }

std::optional<std::vector<LoopRow>> Bundle::loops(bool trainStep, std::string &error) const {
  if (cuda_) {
    error = "a GPU bundle has no CPU loops to time";
    return std::nullopt;
  }
  if (trainStep && !hasTrainStep()) {
    error = "built with --forward-only (no train_step)";
    return std::nullopt;
  }
  return readLoopTable(library_, trainStep ? manifest_.trainStepSymbol : manifest_.forwardSymbol, error);
}

namespace {

// VIDNET_CUDA_UPLOAD_ALL=1: every GPU call copies every input from the host, as before weights stayed on the
// device between calls; the same results, bit for bit (gpu-check.sh compares the two).
bool uploadAll() {
  static const bool all = [] {
    const char *v = std::getenv("VIDNET_CUDA_UPLOAD_ALL");
    return v && std::string(v) == "1";
  }();
  return all;
}

} // namespace

bool Bundle::prepare(const float *params, const float *state, float *prepared, const void *owner,
                     std::string &error) const {
  if (prepare_)
    prepare_(params, state, prepared);
  if (!cuda_ || uploadAll())
    return true;
  std::string why;
  const int paramsArg = cuda_->argIndex("forward", "params"), stateArg = cuda_->argIndex("forward", "state");
  if (paramsArg >= 0 && stateArg >= 0 && cuda_->upload("forward", static_cast<size_t>(paramsArg), params, why) &&
      cuda_->upload("forward", static_cast<size_t>(stateArg), state, why)) {
    forwardOwner_ = owner;
    return true;
  }
  forwardOwner_ = nullptr;
  if (why.empty())
    why = "the bundle's forward has no params or state argument";
  error = "forward on " + cuda_->deviceName() + ": " + why;
  return false;
}

bool Bundle::forward(const float *clips, const float *params, const float *state, const float *prepared, float *logits,
                     float *features, const void *owner, std::string &error) const {
  if (!cuda_) {
    forward_(clips, params, state, prepared, logits, features);
    return true;
  }
  std::string why;
  const std::vector<void *> host = {const_cast<float *>(clips), const_cast<float *>(params),
                                    const_cast<float *>(state), logits, features};
  // params and state stay as prepare() uploaded them, if they are this owner's.
  std::vector<CudaInput> inputs(host.size());
  if (owner && owner == forwardOwner_ && !uploadAll())
    for (const char *weights : {"params", "state"})
      if (int i = cuda_->argIndex("forward", weights); i >= 0 && static_cast<size_t>(i) < inputs.size())
        inputs[static_cast<size_t>(i)].from = CudaInput::From::Device;
  if (cuda_->run("forward", host, why, inputs)) {
    forwardOwner_ = owner; // the device holds what this call copied or found there
    return true;
  }
  forwardOwner_ = nullptr;
  error = "forward on " + cuda_->deviceName() + ": " + why;
  return false;
}

bool Bundle::trainStep(const float *clips, const int64_t *labels, const float *params, const float *state,
                       const float *momentum, const float *hyper, float *newParams, float *newState, float *newMomentum,
                       float *loss, float *logits, bool continuesOnDevice, const void *owner,
                       std::string &error) const {
  if (!cuda_) {
    trainStep_(clips, labels, params, state, momentum, hyper, newParams, newState, newMomentum, loss, logits);
    return true;
  }
  std::string why;
  const std::vector<void *> host = {const_cast<float *>(clips),  const_cast<int64_t *>(labels),
                                    const_cast<float *>(params), const_cast<float *>(state),
                                    const_cast<float *>(momentum), const_cast<float *>(hyper),
                                    newParams, newState, newMomentum, loss, logits};
  std::vector<CudaInput> inputs;
  if (continuesOnDevice && owner && owner == stepOwner_ && !uploadAll()) {
    inputs.resize(host.size());
    for (const char *name : {"params", "state", "momentum"}) {
      int in = cuda_->argIndex("train_step", name), out = cuda_->argIndex("train_step", std::string("new_") + name);
      if (in >= 0 && out >= 0 && static_cast<size_t>(in) < inputs.size())
        inputs[static_cast<size_t>(in)] = {CudaInput::From::Output, static_cast<size_t>(out)};
    }
  }
  if (cuda_->run("train_step", host, why, inputs)) {
    stepOwner_ = owner;
    return true;
  }
  stepOwner_ = nullptr;
  error = "train_step on " + cuda_->deviceName() + ": " + why;
  return false;
}

FloatBuffer::FloatBuffer(int64_t elements) : size_(elements) {
  size_t bytes = (static_cast<size_t>(std::max<int64_t>(elements, 1)) * sizeof(float) + 63) / 64 * 64;
  data_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
  if (!data_)
    throw std::bad_alloc();
  std::memset(data_.get(), 0, bytes);
}

Model::Model(const Bundle &bundle, Undrawn)
    : bundle_(bundle), params_(bundle.manifest().paramElements), state_(bundle.manifest().stateElements),
      momentum_(bundle.manifest().paramElements), prepared_(bundle.preparedElements()) {
  const Manifest &m = bundle.manifest();
  for (const ManifestTensor &t : m.tensors)
    if (t.buffer == BufferKind::Host)
      counters_.push_back(0);
}

Model::Model(const Bundle &bundle, uint64_t seed) : Model(bundle, Undrawn{}) { initialize(seed); }

std::unique_ptr<Model> Model::fromWeights(const Bundle &bundle, const std::string &path, std::string &error,
                                          bool replaceHead, uint64_t seed) {
  std::unique_ptr<Model> model(new Model(bundle, Undrawn{}));
  if (!model->loadWeights(path, error, replaceHead, seed))
    return nullptr;
  return model;
}

void Model::initialize(uint64_t seed) {
  preparedStale_ = true;
  stepOnDevice_ = false;
  Random rng(seed);
  std::vector<float> values;
  size_t counter = 0;
  for (const ManifestTensor &t : bundle_.manifest().tensors) {
    if (t.buffer == BufferKind::Host) {
      counters_[counter++] = 0;
      continue;
    }
    drawInitial(t, rng, values, (t.buffer == BufferKind::Params ? params_.data() : state_.data()) + t.offset);
  }
}

namespace {

constexpr const char *kMomentumPrefix = "momentum_buffer.";

bool isHead(const std::string &name) { return name.rfind("fc.", 0) == 0; }

} // namespace

bool Model::loadWeights(const std::string &path, std::string &error, bool replaceHead, uint64_t seed) {
  SafetensorsFile file;
  if (!readSafetensors(path, file, error))
    return false;
  const Manifest &m = bundle_.manifest();
  auto isMomentum = [](const std::string &name) { return name.rfind(kMomentumPrefix, 0) == 0; };
  // Fine-tuning (a new head) starts a fresh optimizer, as a new torch.optim.SGD would.
  bool hasMomentum = !replaceHead && std::any_of(file.tensors.begin(), file.tensors.end(),
                                                 [&](const auto &t) { return isMomentum(t.first); });
  // Check and convert everything first, so that a failed load leaves the model as it was.
  struct Pending {
    const ManifestTensor *tensor;
    FloatBuffer *buffer;
    std::vector<float> values;
  };
  std::vector<Pending> pending;
  std::vector<int64_t> counters = counters_;
  std::map<std::string, bool> used;
  size_t counter = 0;
  auto take = [&](const ManifestTensor &t, const std::string &name, FloatBuffer *dst) {
    auto it = file.tensors.find(name);
    if (it == file.tensors.end()) {
      if (t.buffer == BufferKind::Host) {
        counters[counter++] = 0;
        return true;
      }
      error = path + ": tensor '" + name + "' is missing (the bundle expects " + shapeText(t.shape) + ")";
      return false;
    }
    used[name] = true;
    const SafeTensor &st = it->second;
    if (st.shape != t.shape) {
      error = path + ": tensor '" + name + "' has shape " + shapeText(st.shape) + ", the bundle expects " +
              shapeText(t.shape);
      return false;
    }
    if (t.buffer == BufferKind::Host) {
      if (st.dtype != "I64") {
        error = path + ": tensor '" + name + "' is " + st.dtype + ", the bundle expects I64";
        return false;
      }
      std::memcpy(&counters[counter++], st.data.data(), 8);
      return true;
    }
    pending.push_back({&t, dst, {}});
    if (!toFloat32(st, pending.back().values)) {
      error = path + ": tensor '" + name + "' is " + st.dtype + ", the bundle expects F32 (or F64, F16, BF16)";
      return false;
    }
    return true;
  };
  for (const ManifestTensor &t : m.tensors) {
    if (replaceHead && isHead(t.name)) {
      if (t.buffer == BufferKind::Host)
        ++counter;
      continue;
    }
    FloatBuffer *dst = t.buffer == BufferKind::Params ? &params_ : &state_;
    if (!take(t, t.name, dst))
      return false;
    if (hasMomentum && t.buffer == BufferKind::Params && !take(t, kMomentumPrefix + t.name, &momentum_))
      return false;
  }
  for (const auto &[name, tensor] : file.tensors) {
    if (!used.count(name) && !(replaceHead && (isHead(name) || isMomentum(name)))) {
      error =
          path + ": unexpected tensor '" + name + "' " + shapeText(tensor.shape) + " (not in bundle " + m.model + ")";
      return false;
    }
  }
  if (replaceHead) {
    // Fresh head from the bundle's initializers; everything else comes from the file below.
    Random rng(seed);
    std::vector<float> values;
    for (const ManifestTensor &t : m.tensors)
      if (isHead(t.name) && t.buffer == BufferKind::Params)
        drawInitial(t, rng, values, params_.data() + t.offset);
  }
  if (!hasMomentum)
    resetMomentum();
  for (Pending &p : pending)
    permute(p.values.data(), p.tensor->shape, p.tensor->permutation, p.buffer->data() + p.tensor->offset);
  counters_ = counters;
  preparedStale_ = true;
  stepOnDevice_ = false;
  return true;
}

bool Model::saveWeights(const std::string &path, std::string &error, bool withMomentum) const {
  SafetensorsFile file;
  file.metadata = {{"format", "pt"}, {"producer", "vidnet"}, {"model", bundle_.manifest().model}};
  auto floats = [](const ManifestTensor &t, const float *src) {
    SafeTensor st;
    st.shape = t.shape;
    st.dtype = "F32";
    st.data.resize(static_cast<size_t>(t.elements()) * 4);
    std::vector<int64_t> compiled = t.compiledShape;
    permute(src + t.offset, compiled, inverse(t.permutation), reinterpret_cast<float *>(st.data.data()));
    return st;
  };
  size_t counter = 0;
  for (const ManifestTensor &t : bundle_.manifest().tensors) {
    if (t.buffer == BufferKind::Host) {
      SafeTensor st;
      st.shape = t.shape;
      st.dtype = "I64";
      st.data.resize(8);
      std::memcpy(st.data.data(), &counters_[counter++], 8);
      file.tensors[t.name] = std::move(st);
      continue;
    }
    file.tensors[t.name] = floats(t, t.buffer == BufferKind::Params ? params_.data() : state_.data());
    if (withMomentum && t.buffer == BufferKind::Params)
      file.tensors[kMomentumPrefix + t.name] = floats(t, momentum_.data());
  }
  return writeSafetensors(path, file, error);
}

void Model::resetMomentum() {
  std::memset(momentum_.data(), 0, sizeof(float) * static_cast<size_t>(momentum_.size()));
  stepOnDevice_ = false;
}

bool Model::trainStep(const float *clips, const int64_t *labels, const SgdHyper &hyper, float &loss, float *logits,
                      std::string &error) {
  const Manifest &m = bundle_.manifest();
  if (!bundle_.hasTrainStep()) {
    error = bundle_.dir() + ": built with --forward-only (no train_step); rebuild it with vidc build";
    return false;
  }
  const int64_t n = m.trainBatch;
  for (int64_t i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= m.classes) {
      error = "label " + std::to_string(labels[i]) + " of clip " + std::to_string(i) + " is outside [0, " +
              std::to_string(m.classes) + ")";
      return false;
    }
  if (nextParams_.size() != params_.size()) {
    nextParams_ = FloatBuffer(params_.size());
    nextState_ = FloatBuffer(state_.size());
    nextMomentum_ = FloatBuffer(momentum_.size());
  }
  const int64_t spatial = m.frames * m.height * m.width;
  if (stagedClips_.size() != n * m.channels * spatial)
    stagedClips_ = FloatBuffer(n * m.channels * spatial);
  clipsToChannelsLast(clips, n, m.channels, spatial, stagedClips_.data());
  const float hyperValues[3] = {hyper.lr, hyper.momentum, hyper.weightDecay};
  if (!bundle_.trainStep(stagedClips_.data(), labels, params_.data(), state_.data(), momentum_.data(), hyperValues,
                         nextParams_.data(), nextState_.data(), nextMomentum_.data(), &loss, logits, stepOnDevice_, this,
                         error)) {
    stepOnDevice_ = false; // the device's outputs may be half written; the host's model is unchanged
    return false;          // (the outputs were not swapped in)
  }
  std::swap(params_, nextParams_);
  std::swap(state_, nextState_);
  std::swap(momentum_, nextMomentum_);
  preparedStale_ = true;
  stepOnDevice_ = bundle_.onGpu();
  // PyTorch counts every training-mode forward of a BN layer.
  for (int64_t &c : counters_)
    ++c;
  return true;
}

int Model::threads() {
  if (const char *env = std::getenv("VIDNET_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1 && n <= 1024)
      return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

bool Model::forwardCall(const float *clips, int64_t count, FloatBuffer &staged, FloatBuffer &out, FloatBuffer &pooled,
                        float *logits, float *features, std::string &error) const {
  const Manifest &m = bundle_.manifest();
  const int64_t spatial = m.frames * m.height * m.width, clip = m.channels * spatial;
  // The clips past `count` are zeros; clipsToChannelsLast overwrites the others whole.
  std::memset(staged.data() + count * clip, 0, sizeof(float) * static_cast<size_t>(staged.size() - count * clip));
  clipsToChannelsLast(clips, count, m.channels, spatial, staged.data());
  if (!bundle_.forward(staged.data(), params_.data(), state_.data(), prepared_.data(), out.data(), pooled.data(), this,
                       error))
    return false;
  std::memcpy(logits, out.data(), sizeof(float) * static_cast<size_t>(count * m.classes));
  if (features)
    std::memcpy(features, pooled.data(), sizeof(float) * static_cast<size_t>(count * m.featureSize));
  return true;
}

void Model::forwardClipPerThread(const float *clips, int64_t n, float *logits, float *features) const {
  struct Job {
    const Model *model;
    const float *clips;
    float *logits, *features;
  } job{this, clips, logits, features};
  // Each item is a whole forward on the thread that claims it, and each call allocates its own
  // activations. The compiled loops inside run on that thread, unless another thread is out of
  // clips: it then takes chunks of them (parallelForHelped), so that a clip whose core runs slow
  // (a VM's neighbours) does not hold the whole batch back by itself.
  auto run = [](void *arguments, int64_t begin, int64_t end) {
    const Job &j = *static_cast<const Job *>(arguments);
    const Manifest &m = j.model->bundle_.manifest();
    const int64_t clip = m.channels * m.frames * m.height * m.width;
    FloatBuffer staged(clip), out(m.classes), pooled(m.featureSize);
    std::string unused; // the CPU forward does not fail
    for (int64_t i = begin; i < end; ++i)
      j.model->forwardCall(j.clips + i * clip, 1, staged, out, pooled, j.logits + i * m.classes,
                           j.features ? j.features + i * m.featureSize : nullptr, unused);
  };
  parallelForHelped(run, &job, n);
}

bool Model::prepareWeights(std::string &error) {
  if (!preparedStale_)
    return true;
  if (!bundle_.prepare(params_.data(), state_.data(), prepared_.data(), this, error))
    return false;
  preparedStale_ = false;
  return true;
}

int64_t Model::concurrentClips(int64_t n) const {
  const int threadCount = threads();
  return clipPerThread_ && !bundle_.onGpu() && bundle_.manifest().forwardBatch == 1 && threadCount > 1
             ? n / threadCount * threadCount
             : 0;
}

bool Model::forward(const float *clips, int64_t n, float *logits, float *features, std::string &error) {
  if (!prepareWeights(error))
    return false;
  const Manifest &m = bundle_.manifest();
  const int64_t perCall = m.forwardBatch, clip = m.channels * m.frames * m.height * m.width;
  // Whole groups of threads() clips one clip per thread, the rest one call at a time with its
  // loops spread over every thread. Alternating runs on a 2-core Zen 5 VM, batch 2 x 3x8x112x112:
  // one clip per thread r3d_18 3%, torchvision r2plus1d_18 5% and mc3_18 1-8% faster; the
  // threads never wait for each other at the end of a loop, which a VM's neighbours drag out.
  // Each concurrent clip holds its own activations: threads() times the memory.
  const int64_t concurrent = concurrentClips(n);
  if (concurrent > 0)
    forwardClipPerThread(clips, concurrent, logits, features);
  FloatBuffer staged(perCall * clip), out(perCall * m.classes), pooled(perCall * m.featureSize);
  for (int64_t start = concurrent; start < n; start += perCall)
    if (!forwardCall(clips + start * clip, std::min(perCall, n - start), staged, out, pooled,
                     logits + start * m.classes, features ? features + start * m.featureSize : nullptr, error))
      return false;
  return true;
}

} // namespace vidnet::rt
