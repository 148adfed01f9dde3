// Every model in models/ and examples/, compiled into a bundle at a small input (3x4x32x32,
// 5 classes, batch 2) and run through the runtime, against the reference interpreter: the
// eval-mode forward, then one SGD step of the compiled train_step.
#include "compiler/Frontend.h"
#include "common/BundleFormat.h"
#include "compiler/bundle/BundleWriter.h"
#include "compiler/bundle/CudaBundleWriter.h"
#include "runtime/core/LoopProfile.h"
#include "runtime/core/Model.h"
#include "runtime/core/Random.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/io/Safetensors.h"
#include "runtime/reference/Backward.h"
#include "test/support/ReferenceModel.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <random>

namespace fs = std::filesystem;
using namespace vidnet;

namespace {

std::vector<std::string> modelSpecs() {
  std::vector<std::string> specs;
  for (const char *dir : {"models", "examples"})
    for (const auto &e : fs::recursive_directory_iterator(fs::path(VIDNET_SOURCE_DIR) / dir))
      if (e.path().extension() == ".vnet")
        specs.push_back(fs::relative(e.path(), VIDNET_SOURCE_DIR).string());
  std::sort(specs.begin(), specs.end());
  return specs;
}

std::string testName(const testing::TestParamInfo<std::string> &info) {
  std::string name = info.param.substr(0, info.param.size() - 5);
  for (char &c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return name;
}

// Writable: the model then recomputes its prepared weights before the next forward.
float *slot(rt::Model &model, const rt::ManifestTensor &t) {
  return (t.buffer == rt::BufferKind::Params ? model.params() : model.state()) + t.offset;
}
// Read-only: leaves the prepared weights as they are, so that a test can see whether the model
// itself knows when they are stale.
const float *slot(const rt::Model &model, const rt::ManifestTensor &t) {
  return (t.buffer == rt::BufferKind::Params ? model.params() : model.state()) + t.offset;
}

// Non-trivial eval-mode BN: gamma, beta, running mean and variance all random.
void randomizeBatchNorm(rt::Model &model, std::mt19937 &rng) {
  std::uniform_real_distribution<float> scale(0.5f, 1.5f), shift(-0.2f, 0.2f);
  for (const rt::ManifestTensor &t : model.bundle().manifest().tensors) {
    if (t.buffer == rt::BufferKind::Host || t.shape.size() != 1 || t.name.rfind("fc.", 0) == 0)
      continue;
    bool positive = t.name.ends_with(".weight") || t.name.ends_with(".running_var");
    float *p = slot(model, t);
    for (int64_t i = 0; i < t.elements(); ++i)
      p[i] = positive ? scale(rng) : shift(rng);
  }
}

// max |a - b| over max |b|, both over every element.
double relativeError(const float *a, const std::vector<float> &b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - b[i]));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

// Elements per channel each BN normalizes over, keyed by its running_var name: BN layers see
// their output's shape; the inner BN of a (2+1)D conv sees the input's frames (the spatial
// conv has no temporal stride) at the output's height and width.
std::map<std::string, int64_t> batchNormCounts(const ModelGraph &g, int64_t batch) {
  std::map<std::string, int64_t> counts;
  for (const Layer &l : g.layers) {
    if (l.kind == LayerKind::BatchNorm) {
      counts[l.tensorName(TensorRole::BnRunningVar)] = batch * l.output.l * l.output.h * l.output.w;
    } else if (l.kind == LayerKind::Conv2Plus1d) {
      const Shape &in = l.inputs[0] < 0 ? g.input : g.layers[static_cast<size_t>(l.inputs[0])].output;
      counts[l.tensorName(TensorRole::BnRunningVar)] = batch * in.l * l.output.h * l.output.w;
    }
  }
  return counts;
}

// One compiled SGD step on the first `batch` clips against the reference's gradients and
// PyTorch's update rules. The momentum buffer after a first step is g + wd * w exactly, so it
// is compared directly (no cancellation); the new weights must be w - lr * buffer.
void checkTrainStep(const ModelGraph &graph, rt::Model &model, const ref::Tensor &allClips,
                    const std::function<ref::Tensor(const std::string &)> &tensor) {
  const rt::Manifest &m = model.bundle().manifest();
  const int64_t n = m.trainBatch;
  ASSERT_GT(n, 0) << "bundle has no train_step";
  ref::Tensor x({n, m.frames, m.height, m.width, m.channels});
  x.data.assign(allClips.data.begin(), allClips.data.begin() + static_cast<long>(x.elements()));
  std::vector<float> clips(static_cast<size_t>(x.elements()));  // back to N x C x DHW for the runtime
  int64_t spatial = m.frames * m.height * m.width;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t s = 0; s < spatial; ++s)
      for (int64_t c = 0; c < m.channels; ++c)
        clips[static_cast<size_t>((i * m.channels + c) * spatial + s)] =
            x.data[static_cast<size_t>((i * spatial + s) * m.channels + c)];
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    labels[static_cast<size_t>(i)] = (3 * i + 1) % m.classes;

  test::ReferenceTrainResult expected = test::referenceTrainStep(graph, x, labels, tensor);
  std::map<std::string, ref::Tensor> before;
  for (const rt::ManifestTensor &t : m.tensors)
    if (t.buffer != rt::BufferKind::Host)
      before[t.name] = tensor(t.name);

  const rt::SgdHyper hyper{0.5f, 0.9f, 1e-3f};
  float loss = 0;
  std::vector<float> logits(static_cast<size_t>(n * m.classes));
  std::string error;
  ASSERT_TRUE(model.trainStep(clips.data(), labels.data(), hyper, loss, logits.data(), error)) << error;
  EXPECT_NEAR(loss, expected.loss, 1e-4 * std::max(1.0f, std::abs(expected.loss)));
  EXPECT_LE(relativeError(logits.data(), expected.logits.data), 1e-4);

  std::map<std::string, int64_t> counts = batchNormCounts(graph, n);
  double worstGrad = 0;
  for (const rt::ManifestTensor &t : m.tensors) {
    if (t.buffer == rt::BufferKind::Host)
      continue;
    const ref::Tensor &w = before.at(t.name);
    const float *now = slot(std::as_const(model), t);
    if (t.buffer == rt::BufferKind::Params) {
      ASSERT_TRUE(expected.grads.count(t.name)) << t.name;
      ref::Tensor buf = expected.grads.at(t.name);
      for (size_t i = 0; i < buf.data.size(); ++i)
        buf.data[i] += hyper.weightDecay * w.data[i];
      double err = relativeError(model.momentum() + t.offset, buf.data);
      worstGrad = std::max(worstGrad, err);
      EXPECT_LE(err, 2e-3) << t.name << ": momentum buffer (gradient + wd w) differs from the reference";
      for (size_t i = 0; i < buf.data.size(); ++i)
        ASSERT_NEAR(now[i], w.data[i] - hyper.lr * model.momentum()[t.offset + static_cast<int64_t>(i)],
                    1e-6f * std::max(1.0f, std::abs(w.data[i])))
            << t.name << "[" << i << "]: w' != w - lr * buffer";
    } else {
      bool isMean = t.name.ends_with("running_mean");
      std::string varName = isMean ? t.name.substr(0, t.name.size() - 4) + "var" : t.name;
      ref::Tensor mean = before.at(isMean ? t.name : t.name.substr(0, t.name.size() - 3) + "mean");
      ref::Tensor var = before.at(varName);
      std::string meanName = varName.substr(0, varName.size() - 3) + "mean";
      ref::runningStatsUpdate(mean, var, expected.batchMean.at(meanName), expected.batchVar.at(varName),
                              counts.at(varName));
      EXPECT_LE(relativeError(now, (isMean ? mean : var).data), 1e-4) << t.name;
    }
  }
  std::printf("  train step: loss %.6f (reference %.6f), worst gradient error %.3g; smallest |ReLU input| %.3g\n",
              loss, expected.loss, worstGrad, expected.smallestReluInput);
}

// train_step doubles a bundle's compile time, so it is checked on one model per kind of layer
// stack: 3D (r3d_18), (2+1)D (the small example), mixed 3D/2D (mc3_18, rmc3_18), frames
// folded into channels (r2d_18), frame-wise 2D (the small f-R2D), 571-channel convs whose
// reduction the CPU target pads (the small ragged R2D), and the bottleneck family: max pooling,
// 1x1x1 convs, depthwise middle convs, P3D's split middles (the small ir-CSN, ip-CSN, bottleneck
// R3D and P3D). The deeper variants
// repeat the same ops. torchvision's r2plus1d_18 is left out: at this input its gradients
// differed from the reference by 1-11% with the loss equal to 2e-6, the signature of a
// ReLU input within float rounding of 0 taking the other side (a float32 implementation
// may; PyTorch's float32 does too, see test/interop/torchvision_step.py), not of a wrong rule.
bool trainsInTests(const std::string &spec) {
  for (const char *s : {"examples/tiny_fr2d.vnet", "examples/tiny_r2plus1d.vnet", "examples/tiny_ragged.vnet",
                        "examples/tiny_ir_csn.vnet", "examples/tiny_ip_csn.vnet", "examples/tiny_r3d_bottleneck.vnet",
                        "examples/tiny_p3d.vnet",
                        "models/r3d_18.vnet", "models/mc3_18.vnet", "models/rmc3_18.vnet", "models/r2d_18.vnet"})
    if (spec == s)
      return true;
  return false;
}

// Compiles `spec` at `input` (3x4x32x32 unless given), 5 classes, for `target` (this machine's
// CPU unless given), and compares forward (and, for trainsInTests specs, one SGD step) with the
// reference interpreter. `kernelsOnCpu`: the CUDA target's kernels, each launch run as loops on
// the CPU.
void checkModel(const std::string &spec, bool kernelsOnCpu, unsigned seed, bool train,
                Shape input = Shape{3, 4, 32, 32}, const cpu::MachineTarget &target = cpu::hostTarget()) {
  const int64_t batch = 2, clipsCount = 3;  // 3 clips: the second chunk is zero-padded
  ElaborateOptions options;
  options.input = input;
  options.classes = 5;
  FrontendResult r = runFrontend((fs::path(VIDNET_SOURCE_DIR) / spec).string(), options);
  ASSERT_TRUE(r.ok()) << spec << " does not elaborate at the test's input";
  const ModelGraph &graph = *r.graph;

  // The input is in the name: ctest runs tests in parallel, and two of them compile one spec for
  // one CPU at different inputs.
  fs::path dir = fs::path(testing::TempDir()) / ("vidnet-" + testName({spec, 0}) + (kernelsOnCpu ? "-kernels" : "") +
                                                 "-" + target.cpu + "-" + toString(input) + ".vbundle");
  BundleTimings timings;
  std::string error;
  ASSERT_TRUE(writeCpuBundle({graph, r.source->text(), batch, train, target, dir.string(), kernelsOnCpu}, timings,
                             error))
      << error;
  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(dir.string(), error);
  ASSERT_TRUE(bundle) << error;
  rt::Model model(*bundle);
  model.initialize(7);
  std::mt19937 rng(seed);
  randomizeBatchNorm(model, rng);

  const rt::Manifest &m = bundle->manifest();
  int64_t clip = m.channels * m.frames * m.height * m.width;
  std::vector<float> clips(static_cast<size_t>(clipsCount * clip));
  std::normal_distribution<float> normal;
  for (float &v : clips)
    v = normal(rng);
  std::vector<float> logits(static_cast<size_t>(clipsCount * m.classes));
  std::vector<float> features(static_cast<size_t>(clipsCount * m.featureSize));
  std::string forwardError;
  ASSERT_TRUE(model.forward(clips.data(), clipsCount, logits.data(), features.data(), forwardError)) << forwardError;

  // The reference takes N x D x H x W x C clips and compiled-layout tensors from the buffers.
  ref::Tensor x({clipsCount, m.frames, m.height, m.width, m.channels});
  for (int64_t n = 0; n < clipsCount; ++n)
    for (int64_t c = 0; c < m.channels; ++c)
      for (int64_t s = 0; s < m.frames * m.height * m.width; ++s)
        x.data[static_cast<size_t>((n * m.frames * m.height * m.width + s) * m.channels + c)] =
            clips[static_cast<size_t>(n * clip + c * m.frames * m.height * m.width + s)];
  auto tensor = [&](const std::string &name) {
    for (const rt::ManifestTensor &t : m.tensors)
      if (t.name == name) {
        ref::Tensor v(t.compiledShape);
        const float *p = slot(std::as_const(model), t);
        v.data.assign(p, p + t.elements());
        return v;
      }
    ADD_FAILURE() << "no tensor " << name;
    return ref::Tensor();
  };
  ref::Tensor expectedFeatures;
  ref::Tensor expected = test::referenceForward(graph, x, tensor, &expectedFeatures);
  ASSERT_EQ(expected.elements(), static_cast<int64_t>(logits.size()));
  ASSERT_EQ(expectedFeatures.elements(), static_cast<int64_t>(features.size()));
  double featureDiff = 0, featureMax = 0;
  for (size_t i = 0; i < features.size(); ++i) {
    featureDiff = std::max(featureDiff, std::abs(double(features[i]) - expectedFeatures.data[i]));
    featureMax = std::max(featureMax, std::abs(double(expectedFeatures.data[i])));
  }
  EXPECT_GT(featureMax, 0.0) << "all-zero features test nothing";
  EXPECT_LE(featureDiff, 1e-4 * std::max(1.0, featureMax)) << "pooled features";

  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i;
    maxDiff = std::max(maxDiff, std::abs(double(logits[i]) - expected.data[i]));
    maxRef = std::max(maxRef, std::abs(double(expected.data[i])));
  }
  std::printf("%s%s: max |compiled - reference| = %.3g, max |reference| = %.3g, features %.3g (compile %.1f s)\n",
              spec.c_str(), kernelsOnCpu ? " (CUDA kernels on the CPU)" : "", maxDiff, maxRef, featureDiff, timings.mlirSeconds + timings.llvmSeconds + timings.linkSeconds);
  EXPECT_GT(maxRef, 0.0) << "all-zero logits test nothing";
  EXPECT_LE(maxDiff, 1e-4 * std::max(1.0, maxRef));

  // The forward above ran two of the clips one per thread (on a machine of several threads);
  // one clip at a time on every thread gives the same bits.
  model.setClipPerThread(false);
  std::vector<float> oneAtATime(logits.size()), oneAtATimeFeatures(features.size());
  ASSERT_TRUE(model.forward(clips.data(), clipsCount, oneAtATime.data(), oneAtATimeFeatures.data(), forwardError))
      << forwardError;
  model.setClipPerThread(true);
  EXPECT_EQ(0, std::memcmp(logits.data(), oneAtATime.data(), sizeof(float) * logits.size())) << "logits";
  EXPECT_EQ(0, std::memcmp(features.data(), oneAtATimeFeatures.data(), sizeof(float) * features.size()))
      << "features";

  if (train) {
    checkTrainStep(graph, model, x, tensor);
    // The forward after a step reads the new weights and BN statistics: the CPU forward's
    // prepared (packed) filters are recomputed from them, not those of the first forward.
    ASSERT_TRUE(model.forward(clips.data(), clipsCount, logits.data(), forwardError)) << forwardError;
    ref::Tensor afterStep = test::referenceForward(graph, x, tensor, nullptr);
    double stepDiff = 0, stepMax = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      stepDiff = std::max(stepDiff, std::abs(double(logits[i]) - afterStep.data[i]));
      stepMax = std::max(stepMax, std::abs(double(afterStep.data[i])));
    }
    EXPECT_LE(stepDiff, 1e-4 * std::max(1.0, stepMax)) << "forward after a train step";
  }
  fs::remove_all(dir);
}

class CompiledModel : public testing::TestWithParam<std::string> {};
// P3D-199 halves the frames four times (its stem pool and three temporal pools): 16 frames.
Shape testInput(const std::string &spec) {
  return spec.find("p3d_199") != std::string::npos ? Shape{3, 16, 32, 32} : Shape{3, 4, 32, 32};
}

TEST_P(CompiledModel, MatchesReference) {
  checkModel(GetParam(), false, 2018, trainsInTests(GetParam()), testInput(GetParam()));
}
INSTANTIATE_TEST_SUITE_P(Models, CompiledModel, testing::ValuesIn(modelSpecs()), testName);

// The models above are compiled for this machine's CPU, whose vector registers size the register
// tiles (8 x 32 lanes with AVX-512, 6 x 16 with AVX2). These compile two of them for a named CPU
// of each width, so that both tile families are checked against the reference on whichever
// machine runs the tests (an AVX2 bundle runs on AVX-512 CPUs too).

TEST(CompiledModelVectorWidths, Avx2TilesMatchReference) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "this CPU has no AVX2 and FMA to run an x86-64-v3 bundle";
  ASSERT_EQ(cpu::vectorBits(cpu::namedTarget("x86-64-v3")), 256);
  checkModel("examples/tiny_ragged.vnet", false, 2018, true, Shape{3, 4, 32, 32}, cpu::namedTarget("x86-64-v3"));
  checkModel("examples/tiny_r2plus1d.vnet", false, 2018, true, Shape{3, 4, 32, 32}, cpu::namedTarget("x86-64-v3"));
}

// At 8x56x56 the small R(2+1)D's last stage is 2x7x7: its 1x3x3 convs (and their data
// gradients) take AVX2's frame-pair tiles, two output frames' rows of 7 columns per tile.
TEST(CompiledModelVectorWidths, Avx2FramePairTilesMatchReference) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "this CPU has no AVX2 and FMA to run an x86-64-v3 bundle";
  checkModel("examples/tiny_r2plus1d.vnet", false, 2018, true, Shape{3, 8, 56, 56}, cpu::namedTarget("x86-64-v3"));
}

// At 4x64x64 the small R3D's first stage has 32 columns, 5 x 6 + 2 with AVX2: the 2-column
// tail's tiles (forward and data gradients) take two output rows each.
TEST(CompiledModelVectorWidths, Avx2RowPairTilesMatchReference) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "this CPU has no AVX2 and FMA to run an x86-64-v3 bundle";
  checkModel("examples/tiny_r3d.vnet", false, 2018, true, Shape{3, 4, 64, 64}, cpu::namedTarget("x86-64-v3"));
}

// At 4x62x62 the small R3D's first stage is 4x31x31: an odd W leaves its 3x3x3 convs to F(2,3)
// along D on AVX2 (two output depths per tile set, 5 x 6 + 1 columns, the residual add in the
// tile), which only the forward takes.
TEST(CompiledModelVectorWidths, Avx2DepthPairWinogradMatchesReference) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "this CPU has no AVX2 and FMA to run an x86-64-v3 bundle";
  checkModel("examples/tiny_r3d.vnet", false, 2018, true, Shape{3, 4, 62, 62}, cpu::namedTarget("x86-64-v3"));
}

TEST(CompiledModelVectorWidths, Avx512TilesMatchReference) {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
    GTEST_SKIP() << "this CPU has no AVX-512 (F, BW, DQ, VL) to run an x86-64-v4 bundle";
  ASSERT_EQ(cpu::vectorBits(cpu::namedTarget("x86-64-v4")), 512);
  checkModel("examples/tiny_ragged.vnet", false, 2018, true, Shape{3, 4, 32, 32}, cpu::namedTarget("x86-64-v4"));
  checkModel("examples/tiny_r2plus1d.vnet", false, 2018, true, Shape{3, 4, 32, 32}, cpu::namedTarget("x86-64-v4"));
}

// At 3x16x96x96 the stem's and layer1's filter gradients of the small R3D have many chunks of
// positions per element of dW: vidnet-cpu-tile-filter-grads sums them in parts, each part one
// item of a single parallel loop, the parts added in order at the end; layer2.0.conv2.0's dy
// (9216 positions x 32 lanes, 1.2 MB) is more than L2, and its chunks are too few products per
// byte of dW for parts: one loop call per chunk. The step against the reference (the other
// models' inputs are small enough for one chunk), then which loops took parts.
const Shape kPartsInput{3, 16, 96, 96};

// examples/tiny_r3d.vnet at `input`, 5 classes, batch 2 with train_step, compiled for this CPU
// into `dir` and opened; null with `error` on failure.
std::unique_ptr<rt::Bundle> tinyR3dBundle(const Shape &input, const fs::path &dir, std::string &error) {
  ElaborateOptions options;
  options.input = input;
  options.classes = 5;
  FrontendResult r = runFrontend((fs::path(VIDNET_SOURCE_DIR) / "examples/tiny_r3d.vnet").string(), options);
  if (!r.ok()) {
    error = "examples/tiny_r3d.vnet: the front end failed";
    return nullptr;
  }
  BundleTimings timings;
  if (!writeCpuBundle({*r.graph, r.source->text(), 2, true, cpu::hostTarget(), dir.string(), false}, timings, error))
    return nullptr;
  return rt::Bundle::open(dir.string(), error);
}

TEST(CompiledModelParts, FilterGradientsInPartsMatchReference) {
  checkModel("examples/tiny_r3d.vnet", false, 2018, true, kPartsInput);
}

// 128-channel filter gradients over 1.5 MB of dy: blocked copies of x and dy, chunks of
// positions, one item per 6 x 16 (AVX2) or 8 x 32 (AVX-512) block of dW summing every tap of
// every chunk; the 128 channels are 21 whole 6-channel blocks and one of 2 (and 4 zeros).
TEST(CompiledModelParts, BlockedFilterGradientsMatchReference) {
  checkModel("test/unit/specs/wide_chunks.vnet", false, 2018, true, Shape{3, 6, 16, 16});
}

// The initial weights are each tensor's rule drawn from one generator in manifest order, every
// element in PyTorch's layout (what initialize documents), bit for bit: the uniforms are drawn in
// order and turned into samples on the runtime's threads, in blocks of 65536 (tiny_r3d's 3x3x3
// 64->64 filter, 110592 elements, spans two).
TEST(CompiledModelInit, InitialWeightsAreOneSequentialDraw) {
  const fs::path dir = fs::path(testing::TempDir()) / "vidnet-init.vbundle";
  std::string error;
  std::unique_ptr<rt::Bundle> bundle = tinyR3dBundle(Shape{3, 4, 32, 32}, dir, error);
  ASSERT_TRUE(bundle) << error;
  rt::Model model(*bundle);
  model.initialize(11);
  const fs::path saved = dir / "init.safetensors";
  ASSERT_TRUE(model.saveWeights(saved.string(), error)) << error;
  rt::SafetensorsFile file;
  ASSERT_TRUE(rt::readSafetensors(saved.string(), file, error)) << error;
  rt::Random rng(11);
  int64_t largest = 0;
  for (const rt::ManifestTensor &t : bundle->manifest().tensors) {
    if (t.buffer == rt::BufferKind::Host)
      continue;
    ASSERT_TRUE(file.tensors.count(t.name)) << t.name;
    const rt::SafeTensor &stored = file.tensors.at(t.name);
    ASSERT_EQ(stored.dtype, "F32") << t.name;
    ASSERT_EQ(static_cast<int64_t>(stored.data.size()), 4 * t.elements()) << t.name;
    largest = std::max(largest, t.elements());
    for (int64_t i = 0; i < t.elements(); ++i) {
      const float expected = t.initDist == "normal" ? static_cast<float>(rng.normal(t.initMean, t.initStd))
                                                    : static_cast<float>(t.initValue);
      float actual;
      std::memcpy(&actual, stored.data.data() + 4 * i, 4);
      ASSERT_EQ(std::memcmp(&actual, &expected, 4), 0) << t.name << "[" << i << "]: " << actual << " != " << expected;
    }
  }
  EXPECT_GT(largest, 65536) << "no tensor spans two blocks of the draw";
  fs::remove_all(dir);
}

// Model::fromWeights holds exactly what loading the file into a new (seed-0) model holds, head
// replaced or not, without the seed-0 draw: the same saved bytes and the same logits, bit for bit.
TEST(CompiledModelInit, FromWeightsHoldsWhatALoadHolds) {
  const fs::path dir = fs::path(testing::TempDir()) / "vidnet-from-weights.vbundle";
  std::string error;
  std::unique_ptr<rt::Bundle> bundle = tinyR3dBundle(Shape{3, 4, 32, 32}, dir, error);
  ASSERT_TRUE(bundle) << error;
  const std::string weights = (dir / "w7.safetensors").string();
  ASSERT_TRUE(rt::Model(*bundle, 7).saveWeights(weights, error)) << error;
  const rt::Manifest &m = bundle->manifest();
  std::vector<float> clips(static_cast<size_t>(3 * m.channels * m.frames * m.height * m.width));
  for (size_t i = 0; i < clips.size(); ++i)
    clips[i] = static_cast<float>((i * 7919) % 1000) / 500.0f - 1.0f;
  auto savedAndLogits = [&](rt::Model &model, const std::string &name) {
    const std::string path = (dir / name).string();
    std::vector<float> logits(static_cast<size_t>(3 * m.classes));
    EXPECT_TRUE(model.saveWeights(path, error)) << error;
    EXPECT_TRUE(model.forward(clips.data(), 3, logits.data(), error)) << error;
    std::ifstream in(path, std::ios::binary);
    return std::make_pair(std::string(std::istreambuf_iterator<char>(in), {}), logits);
  };
  for (bool replaceHead : {false, true}) {
    SCOPED_TRACE(replaceHead ? "head replaced" : "whole file");
    rt::Model loaded(*bundle);
    ASSERT_TRUE(loaded.loadWeights(weights, error, replaceHead, 5)) << error;
    std::unique_ptr<rt::Model> opened = rt::Model::fromWeights(*bundle, weights, error, replaceHead, 5);
    ASSERT_TRUE(opened) << error;
    auto [loadedBytes, loadedLogits] = savedAndLogits(loaded, "loaded.safetensors");
    auto [openedBytes, openedLogits] = savedAndLogits(*opened, "opened.safetensors");
    EXPECT_TRUE(loadedBytes == openedBytes) << "the saved weights differ";
    ASSERT_EQ(loadedLogits.size(), openedLogits.size());
    EXPECT_EQ(std::memcmp(loadedLogits.data(), openedLogits.data(), loadedLogits.size() * sizeof(float)), 0);
  }
  EXPECT_FALSE(rt::Model::fromWeights(*bundle, (dir / "missing.safetensors").string(), error));
  EXPECT_NE(error.find("missing.safetensors"), std::string::npos) << error;
  fs::remove_all(dir);
}

// Weights stored as F64, F16 or BF16 load as the floats they hold: F64 copies of seed-7 weights
// give those weights; F16 and BF16 bit patterns give the values their formats define, computed
// here from sign, exponent and mantissa (F16, subnormals included) or as the upper half of a
// float (BF16).
TEST(CompiledModelInit, WeightsInOtherFloatTypesLoadAsTheirValues) {
  const fs::path dir = fs::path(testing::TempDir()) / "vidnet-dtypes.vbundle";
  std::string error;
  std::unique_ptr<rt::Bundle> bundle = tinyR3dBundle(Shape{3, 4, 32, 32}, dir, error);
  ASSERT_TRUE(bundle) << error;
  const std::string f32Path = (dir / "f32.safetensors").string();
  ASSERT_TRUE(rt::Model(*bundle, 7).saveWeights(f32Path, error)) << error;
  rt::SafetensorsFile f32;
  ASSERT_TRUE(rt::readSafetensors(f32Path, f32, error)) << error;
  auto f16Value = [](uint16_t h) {
    const int exponent = (h >> 10) & 31, mantissa = h & 1023;
    const double magnitude =
        exponent == 0 ? std::ldexp(mantissa / 1024.0, -14) : std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
    return static_cast<float>(h & 0x8000 ? -magnitude : magnitude);
  };
  auto bf16Value = [](uint16_t h) {
    const uint32_t bits = uint32_t(h) << 16;
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  };
  for (const std::string dtype : {"F64", "F16", "BF16"}) {
    SCOPED_TRACE(dtype);
    rt::SafetensorsFile converted = f32;
    std::map<std::string, std::vector<float>> expected; // per tensor, in the file's (PyTorch) layout
    for (auto &[name, t] : converted.tensors) {
      if (t.dtype != "F32")
        continue;
      const size_t n = t.data.size() / 4;
      std::vector<float> &want = expected[name];
      std::vector<char> data(n * (dtype == "F64" ? 8 : 2));
      for (size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, t.data.data() + 4 * i, 4);
        if (dtype == "F64") {
          const double d = v;
          std::memcpy(data.data() + 8 * i, &d, 8);
          want.push_back(v);
        } else {
          // Every exponent but the infinities' and NaNs' (31 in F16, 255 in BF16), both signs.
          uint16_t h = static_cast<uint16_t>((i * 40503u + name.size() * 977u) & 0xffff);
          if (dtype == "F16" && ((h >> 10) & 31) == 31)
            h ^= 0x4000;
          if (dtype == "BF16" && ((h >> 7) & 255) == 255)
            h ^= 0x4000;
          std::memcpy(data.data() + 2 * i, &h, 2);
          want.push_back(dtype == "F16" ? f16Value(h) : bf16Value(h));
        }
      }
      t.dtype = dtype;
      t.data = std::move(data);
    }
    const std::string path = (dir / (dtype + ".safetensors")).string();
    ASSERT_TRUE(rt::writeSafetensors(path, converted, error)) << error;
    std::unique_ptr<rt::Model> model = rt::Model::fromWeights(*bundle, path, error);
    ASSERT_TRUE(model) << error;
    const std::string saved = (dir / "saved.safetensors").string();
    ASSERT_TRUE(model->saveWeights(saved, error)) << error;
    rt::SafetensorsFile back;
    ASSERT_TRUE(rt::readSafetensors(saved, back, error)) << error;
    for (const auto &[name, want] : expected) {
      const rt::SafeTensor &got = back.tensors.at(name);
      ASSERT_EQ(got.data.size(), 4 * want.size()) << name;
      ASSERT_EQ(std::memcmp(got.data.data(), want.data(), got.data.size()), 0) << name;
    }
  }
  fs::remove_all(dir);
}

TEST(CompiledModelParts, ManyChunkFilterGradientsRunOneLoopCall) {
  const fs::path dir = fs::path(testing::TempDir()) / "vidnet-parts.vbundle";
  std::string error;
  std::unique_ptr<rt::Bundle> bundle = tinyR3dBundle(kPartsInput, dir, error);
  ASSERT_TRUE(bundle) << error;
  std::optional<std::vector<rt::LoopRow>> loops = bundle->loops(true, error);
  ASSERT_TRUE(loops) << error;
  rt::Model model(*bundle);
  model.initialize(3);
  const rt::Manifest &m = bundle->manifest();
  std::vector<float> clips(static_cast<size_t>(2 * m.channels * m.frames * m.height * m.width), 0.5f);
  std::vector<int64_t> labels = {0, 1};
  std::vector<float> logits(static_cast<size_t>(2 * m.classes));
  float loss = 0;
  std::map<std::string, int64_t> calls; // per filter gradient's layer
  {
    rt::LoopTimer timer(loops->size());
    ASSERT_TRUE(model.trainStep(clips.data(), labels.data(), rt::SgdHyper{0.01f, 0.9f, 0.0f}, loss, logits.data(),
                                error))
        << error;
    for (size_t i = 0; i < loops->size(); ++i)
      if ((*loops)[i].kind == vidnet::bundle::loop_kind::kConvFilterGradient)
        calls[(*loops)[i].layer] += timer.calls(i);
  }
  // 2 x 16 x 48 rows of 48 positions: 384 chunks of 4 rows, in 16 parts.
  EXPECT_EQ(calls["stem.0"], 1);
  EXPECT_EQ(calls["layer1.0.conv1.0"], 1);
  EXPECT_EQ(calls["layer1.0.conv2.0"], 1);
  // 32 channels x 27 taps of dW against 2 x 8 x 24 rows of 24 positions: 48 chunks of 8 rows,
  // one loop call each.
  EXPECT_EQ(calls["layer2.0.conv2.0"], 48);
  // 2 x 4 x 12 x 12 positions x 64 lanes (295 KB) fit in L2: one chunk.
  EXPECT_EQ(calls["layer3.0.conv2.0"], 1);
  fs::remove_all(dir);
}

// The CUDA target's kernel formation (padding read in place, folded inits, fused epilogues,
// the train step's moved host loads), checked where no GPU is: one model per kind of layer
// stack. Another seed than the CPU suite's: the kernels sum a conv in another order, and seed
// 2018 puts one of tiny_r2plus1d's ReLU inputs at 2.8e-7, which then takes the other side of 0
// (gradients 5% off, loss equal). The SGD step is checked on the models whose smallest |ReLU
// input| stays above 1e-6 at seed 1 (worst gradient error below 1e-5); r3d_18 and mc3_18 have
// one at 5e-7 to 1e-6 at seeds 1 and 3 (loss equal to 1e-6, gradients off by 1-8% in the
// layers below it), so they are checked forward only; their ops are the same as
// tiny_r2plus1d's (3D convs, strides, downsampling).
struct KernelCase {
  const char *spec;
  bool train;
};
void PrintTo(const KernelCase &c, std::ostream *os) { *os << c.spec << (c.train ? " (forward, SGD step)" : " (forward)"); }
class CudaKernelsOnCpu : public testing::TestWithParam<KernelCase> {};
TEST_P(CudaKernelsOnCpu, MatchesReference) { checkModel(GetParam().spec, true, 1, GetParam().train); }
INSTANTIATE_TEST_SUITE_P(Models, CudaKernelsOnCpu,
                         testing::Values(KernelCase{"examples/tiny_r2plus1d.vnet", true},
                                         KernelCase{"examples/tiny_fr2d.vnet", true},
                                         KernelCase{"models/r2d_18.vnet", true},
                                         KernelCase{"models/r3d_18.vnet", false},
                                         KernelCase{"models/mc3_18.vnet", false}),
                         [](const testing::TestParamInfo<KernelCase> &info) {
                           return testName({info.param.spec, info.index});
                         });

// The CUDA bundle on a real GPU against the CPU bundle of the same spec: logits of 3 clips and
// one SGD step (loss, logits, every updated weight) agree to 1e-3 relative. Skipped, saying
// why, where there is no CUDA driver or GPU (this project's CI machines).
class CudaOnGpu : public testing::TestWithParam<std::string> {};
TEST_P(CudaOnGpu, MatchesCpuTarget) {
  std::string error;
  const rt::CudaDriver *driver = rt::CudaDriver::load(error);
  if (!driver)
    GTEST_SKIP() << "no CUDA GPU, GPU execution not checked: " << error;
  rt::CUdevice device = 0;
  int major = 0, minor = 0;
  ASSERT_TRUE(driver->selectDevice(device, error) && driver->computeCapability(device, major, minor, error)) << error;
  if (major < 8)
    GTEST_SKIP() << "the GPU is sm_" << major << minor << "; the CUDA target needs sm_80 or newer";

  ElaborateOptions options;
  options.input = Shape{3, 4, 32, 32};
  options.classes = 5;
  FrontendResult r = runFrontend((fs::path(VIDNET_SOURCE_DIR) / GetParam()).string(), options);
  ASSERT_TRUE(r.ok());
  const int64_t batch = 2;
  fs::path cpuDir = fs::path(testing::TempDir()) / ("vidnet-gpu-cpu-" + testName({GetParam(), 0}) + ".vbundle");
  fs::path gpuDir = fs::path(testing::TempDir()) / ("vidnet-gpu-" + testName({GetParam(), 0}) + ".vbundle");
  BundleTimings timings;
  ASSERT_TRUE(writeCpuBundle({*r.graph, r.source->text(), batch, true, cpu::hostTarget(), cpuDir.string()}, timings,
                             error))
      << error;
  CudaBundleSummary summary;
  cuda::GpuTarget target;
  target.chip = "sm_" + std::to_string(major) + std::to_string(minor);
  ASSERT_TRUE(writeCudaBundle({*r.graph, r.source->text(), batch, true, target, gpuDir.string()}, summary, error))
      << error;
  std::unique_ptr<rt::Bundle> cpuBundle = rt::Bundle::open(cpuDir.string(), error);
  ASSERT_TRUE(cpuBundle) << error;
  std::unique_ptr<rt::Bundle> gpuBundle = rt::Bundle::open(gpuDir.string(), error);
  ASSERT_TRUE(gpuBundle) << error;
  rt::Model cpuModel(*cpuBundle), gpuModel(*gpuBundle);
  cpuModel.initialize(7);
  gpuModel.initialize(7);
  std::mt19937 rng(1);
  randomizeBatchNorm(cpuModel, rng);
  std::copy(cpuModel.state(), cpuModel.state() + cpuBundle->manifest().stateElements, gpuModel.state());

  const rt::Manifest &m = cpuBundle->manifest();
  const int64_t clip = m.channels * m.frames * m.height * m.width, n = 3;
  std::vector<float> clips(static_cast<size_t>(n * clip));
  std::normal_distribution<float> normal;
  for (float &v : clips)
    v = normal(rng);
  auto relative = [](const std::vector<float> &a, const std::vector<float> &b) { return relativeError(a.data(), b); };
  std::vector<float> cpuLogits(static_cast<size_t>(n * m.classes)), gpuLogits(cpuLogits.size());
  std::string forwardError;
  ASSERT_TRUE(cpuModel.forward(clips.data(), n, cpuLogits.data(), forwardError)) << forwardError;
  ASSERT_TRUE(gpuModel.forward(clips.data(), n, gpuLogits.data(), forwardError)) << forwardError;
  EXPECT_LE(relative(gpuLogits, cpuLogits), 1e-3) << "forward logits on " << gpuBundle->deviceName();

  std::vector<int64_t> labels = {1, 3};
  const rt::SgdHyper hyper{0.5f, 0.9f, 1e-3f};
  float cpuLoss = 0, gpuLoss = 0;
  std::vector<float> cpuStep(static_cast<size_t>(batch * m.classes)), gpuStep(cpuStep.size());
  ASSERT_TRUE(cpuModel.trainStep(clips.data(), labels.data(), hyper, cpuLoss, cpuStep.data(), error)) << error;
  ASSERT_TRUE(gpuModel.trainStep(clips.data(), labels.data(), hyper, gpuLoss, gpuStep.data(), error)) << error;
  EXPECT_NEAR(gpuLoss, cpuLoss, 1e-3 * std::max(1.0f, std::abs(cpuLoss)));
  EXPECT_LE(relative(gpuStep, cpuStep), 1e-3) << "train_step logits";
  std::vector<float> cpuParams(cpuModel.params(), cpuModel.params() + m.paramElements);
  std::vector<float> gpuParams(gpuModel.params(), gpuModel.params() + m.paramElements);
  EXPECT_LE(relative(gpuParams, cpuParams), 1e-3) << "weights after one SGD step";
  std::printf("%s on %s: %d forward kernels, logits differ by %.3g relative, loss %.6f vs %.6f\n",
              GetParam().c_str(), gpuBundle->deviceName().c_str(), summary.forwardKernels,
              relative(gpuLogits, cpuLogits), gpuLoss, cpuLoss);
  fs::remove_all(cpuDir);
  fs::remove_all(gpuDir);
}
INSTANTIATE_TEST_SUITE_P(Models, CudaOnGpu,
                         testing::Values("examples/tiny_r2plus1d.vnet", "examples/tiny_fr2d.vnet", "models/r3d_18.vnet"),
                         testName);

} // namespace
