// manifest.json as the runtime sees it: validated once when a bundle is opened, so that
// nothing later trusts a malformed or hostile bundle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::rt {

enum class BufferKind { Params, State, Host };

struct ManifestTensor {
  std::string name;                  // torchvision state_dict name
  std::string role;                  // conv_weight, bn_gamma, linear_weight, ...
  std::string dtype;                 // "F32" or "I64" (num_batches_tracked)
  std::vector<int64_t> shape;        // PyTorch layout
  bool trainable = true;
  BufferKind buffer = BufferKind::Params;
  int64_t offset = 0;                // elements into its buffer (Params, State)
  std::vector<int64_t> compiledShape;
  std::vector<int> permutation;      // compiled = pytorch.permute(permutation)
  std::string initDist;              // "normal" or "constant"
  double initMean = 0, initStd = 0, initValue = 0;
  int64_t elements() const;
};

// A file of the bundle that the runtime maps or loads, as vidc wrote it.
struct BundleFile {
  std::string name;  // a plain file name inside the bundle
  int64_t bytes = 0;
  std::string sha256;  // lowercase hex
};

struct Manifest {
  int version = 0;
  std::string model, specPath, specSha256;
  std::string targetKind, triple, cpu, features;  // kind: cpu | cuda; the rest for cpu
  std::string gpuArch;                            // cuda: sm_80, sm_90, ...
  int64_t batch = 0, classes = 0;
  int64_t channels = 0, frames = 0, height = 0, width = 0;  // one clip, PyTorch C x L x H x W
  int64_t parameters = 0, macsPerClip = 0;
  std::string library;  // cpu: the shared object
  std::string forwardSymbol;
  // cpu: forward reads weights prepared by this function (filters packed for its tiles), whose
  // buffer size the second one returns.
  std::string prepareSymbol, preparedElementsSymbol;
  int64_t forwardBatch = 0;  // clips per call of the compiled forward
  int64_t featureSize = 0;   // width of the pooled vector forward also returns (fc's input)
  std::string trainStepSymbol;  // empty: built with --forward-only
  int64_t trainBatch = 0;       // clips per call of train_step (BN statistics are over these)
  int64_t paramElements = 0, stateElements = 0;
  std::vector<ManifestTensor> tensors;
  std::vector<BundleFile> files;

  const BundleFile *file(const std::string &name) const;
};

// Parses and checks every field the runtime uses (types, ranges, shapes against offsets and
// buffer sizes, permutations). Messages name the file and the field, e.g.
// "m.vbundle/manifest.json: tensors[3].offset: 812 + 576 elements overruns params (1000)".
// The numbers are also checked against each other (classes and the features against the
// classifier's shape, the entry points' shapes against the input, the buffers against the
// tensors), so that nothing is allocated from a number the rest of the manifest contradicts.
bool parseManifest(const std::string &path, const std::string &text, Manifest &out, std::string &error);

// Checks `name` against its "files" record before anything maps or loads it: "DIR/NAME: N bytes,
// the manifest records M (the bundle is damaged; rebuild it)", or a SHA-256 mismatch.
bool verifyBundleFile(const std::string &dir, const Manifest &m, const std::string &name, std::string &error);

} // namespace vidnet::rt
