// Every model in models/ and examples/, compiled into a bundle at a small input (3x4x32x32,
// 5 classes, batch 2) and run through the runtime, against the reference interpreter.
#include "compiler/Frontend.h"
#include "compiler/bundle/BundleWriter.h"
#include "runtime/core/Model.h"
#include "test/support/ReferenceModel.h"

#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>
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

float *slot(rt::Model &model, const rt::ManifestTensor &t) {
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

class CompiledModel : public testing::TestWithParam<std::string> {};

TEST_P(CompiledModel, MatchesReferenceForward) {
  const int64_t batch = 2, clipsCount = 3;  // 3 clips: the second chunk is zero-padded
  ElaborateOptions options;
  options.input = Shape{3, 4, 32, 32};
  options.classes = 5;
  FrontendResult r = runFrontend((fs::path(VIDNET_SOURCE_DIR) / GetParam()).string(), options);
  ASSERT_TRUE(r.ok()) << GetParam() << " does not elaborate at 3x4x32x32";
  const ModelGraph &graph = *r.graph;

  fs::path dir = fs::path(testing::TempDir()) / ("vidnet-" + testName({GetParam(), 0}) + ".vbundle");
  BundleTimings timings;
  std::string error;
  ASSERT_TRUE(writeCpuBundle({graph, r.source->text(), batch, cpu::hostTarget(), dir.string()}, timings, error))
      << error;
  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(dir.string(), error);
  ASSERT_TRUE(bundle) << error;
  rt::Model model(*bundle);
  model.initialize(7);
  std::mt19937 rng(2018);
  randomizeBatchNorm(model, rng);

  const rt::Manifest &m = bundle->manifest();
  int64_t clip = m.channels * m.frames * m.height * m.width;
  std::vector<float> clips(static_cast<size_t>(clipsCount * clip));
  std::normal_distribution<float> normal;
  for (float &v : clips)
    v = normal(rng);
  std::vector<float> logits(static_cast<size_t>(clipsCount * m.classes));
  model.forward(clips.data(), clipsCount, logits.data());

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
        const float *p = slot(model, t);
        v.data.assign(p, p + t.elements());
        return v;
      }
    ADD_FAILURE() << "no tensor " << name;
    return ref::Tensor();
  };
  ref::Tensor expected = test::referenceForward(graph, x, tensor);
  ASSERT_EQ(expected.elements(), static_cast<int64_t>(logits.size()));

  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i;
    maxDiff = std::max(maxDiff, std::abs(double(logits[i]) - expected.data[i]));
    maxRef = std::max(maxRef, std::abs(double(expected.data[i])));
  }
  std::printf("%s: max |compiled - reference| = %.3g, max |reference| = %.3g (compile %.1f s)\n",
              GetParam().c_str(), maxDiff, maxRef, timings.mlirSeconds + timings.llvmSeconds + timings.linkSeconds);
  EXPECT_GT(maxRef, 0.0) << "all-zero logits test nothing";
  EXPECT_LE(maxDiff, 1e-4 * std::max(1.0, maxRef));
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Models, CompiledModel, testing::ValuesIn(modelSpecs()), testName);

} // namespace
