// vidnet-relu-margin: how far the training step's ReLU inputs stay from 0 for one case (spec,
// CPU bundle, weights, clips, labels), from the reference interpreter. The GPU kit picks its step
// cases with it: where a ReLU input lies within float32 rounding of 0, two correct float32
// implementations may take different sides of the kink and their steps legitimately differ.
#include "compiler/Frontend.h"
#include "runtime/core/Model.h"
#include "runtime/io/ClipArrays.h"
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

  std::vector<float> clips;
  std::vector<int64_t> labels;
  int64_t n = 0;
  if (!rt::readClipsNpy(argv[4], {m.channels, m.frames, m.height, m.width}, clips, n, error))
    return fail(error);
  if (n != m.trainBatch)
    return fail(std::string(argv[4]) + ": " + std::to_string(n) + " clips, the bundle's train step takes " +
                std::to_string(m.trainBatch));
  if (!rt::readLabelsNpy(argv[5], n, labels, error))
    return fail(error);
  for (int64_t label : labels)
    if (label < 0 || label >= m.classes)
      return fail(std::string(argv[5]) + ": label " + std::to_string(label) + " is outside [0, " +
                  std::to_string(m.classes) + ")");

  // The reference reads N x D x H x W x C clips and compiled-layout tensors.
  ref::Tensor x({n, m.frames, m.height, m.width, m.channels});
  rt::clipsToChannelsLast(clips.data(), n, m.channels, m.frames * m.height * m.width, x.data.data());
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
