// vidnet-relu-margin: how far the training step's ReLU inputs stay from 0 for one case (spec,
// CPU bundle, weights, clips, labels), from the reference interpreter. The GPU kit picks its step
// cases with it: where a ReLU input lies within float32 rounding of 0, two correct float32
// implementations may take different sides of the kink and their steps legitimately differ.
#include "compiler/Frontend.h"
#include "runtime/core/Model.h"
#include "runtime/io/Npy.h"
#include "test/support/ReferenceModel.h"

#include <cstdio>
#include <string>
#include <vector>

using namespace vidnet;

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "vidnet-relu-margin: %s\n", message.c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: vidnet-relu-margin SPEC CPU_BUNDLE WEIGHTS.safetensors CLIPS.npy LABELS.npy\n"
                         "  prints {\"loss\": L, \"smallest_relu_input\": M} for one reference training step\n");
    return 2;
  }
  std::string error;
  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(argv[2], error);
  if (!bundle)
    return fail(error);
  const rt::Manifest &m = bundle->manifest();
  if (bundle->onGpu())
    return fail(std::string(argv[2]) + " is a CUDA bundle; give the CPU bundle");
  rt::Model model(*bundle);
  if (!model.loadWeights(argv[3], error))
    return fail(error);

  ElaborateOptions options;
  options.input = Shape{m.channels, m.frames, m.height, m.width};
  options.classes = m.classes;
  FrontendResult r = runFrontend(argv[1], options);
  if (!r.ok() || !r.graph)
    return fail(std::string(argv[1]) + " does not elaborate at the bundle's input shape");

  rt::NpyArray clipsFile, labelsFile;
  std::vector<float> clips;
  std::vector<int64_t> labels;
  if (!rt::readNpy(argv[4], clipsFile, error) || !rt::readNpy(argv[5], labelsFile, error))
    return fail(error);
  const int64_t n = m.trainBatch, spatial = m.frames * m.height * m.width;
  if (!rt::npyAsFloat32(clipsFile, clips) || static_cast<int64_t>(clips.size()) != n * m.channels * spatial)
    return fail(std::string(argv[4]) + ": expected " + std::to_string(n) + " float clips of the bundle's shape");
  if (!rt::npyAsInt64(labelsFile, labels) || static_cast<int64_t>(labels.size()) != n)
    return fail(std::string(argv[5]) + ": expected " + std::to_string(n) + " integer labels");

  // The reference reads N x D x H x W x C clips and compiled-layout tensors.
  ref::Tensor x({n, m.frames, m.height, m.width, m.channels});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < m.channels; ++c)
      for (int64_t s = 0; s < spatial; ++s)
        x.data[static_cast<size_t>((i * spatial + s) * m.channels + c)] =
            clips[static_cast<size_t>((i * m.channels + c) * spatial + s)];
  bool missing = false;
  auto tensor = [&](const std::string &name) {
    for (const rt::ManifestTensor &t : m.tensors)
      if (t.name == name) {
        ref::Tensor v(t.compiledShape);
        const float *p = (t.buffer == rt::BufferKind::Params ? model.params() : model.state()) + t.offset;
        v.data.assign(p, p + t.elements());
        return v;
      }
    missing = true;
    return ref::Tensor();
  };
  test::ReferenceTrainResult step = test::referenceTrainStep(*r.graph, x, labels, tensor);
  if (missing)
    return fail("the bundle lacks a tensor the spec names");
  std::printf("{\"loss\": %.9g, \"smallest_relu_input\": %.6g}\n", step.loss, step.smallestReluInput);
  return 0;
}
