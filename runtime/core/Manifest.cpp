// Strict reading of manifest.json with a field path in every message.
#include "runtime/core/Manifest.h"

#include "common/BundleFormat.h"
#include "runtime/io/JsonReader.h"
#include "runtime/io/Sha256.h"
#include "runtime/io/ShapeText.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sys/stat.h>

namespace vidnet::rt {

using nlohmann::json;

namespace {

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace

int64_t ManifestTensor::elements() const { return product(shape); }

const BundleFile *Manifest::file(const std::string &name) const {
  for (const BundleFile &f : files)
    if (f.name == name)
      return &f;
  return nullptr;
}

namespace {

constexpr int64_t kMaxElements = JsonReader::kMaxElements;
using Reader = JsonReader;

bool parseTensor(Reader &r, const json &j, const std::string &path, const Manifest &m, ManifestTensor &t) {
  if (!r.string(j, "name", path, t.name) || !r.string(j, "role", path, t.role) ||
      !r.string(j, "dtype", path, t.dtype) || !r.dims(j, "shape", path, t.shape))
    return false;
  if (t.name.empty())
    return r.fail(path + ".name", "empty");
  const json *trainable = r.member(j, "trainable", path);
  if (!trainable)
    return false;
  if (!trainable->is_boolean())
    return r.fail(path + ".trainable", "expected true or false");
  t.trainable = trainable->get<bool>();
  std::string buffer;
  if (!r.string(j, "buffer", path, buffer))
    return false;
  if (buffer == "host") {
    t.buffer = BufferKind::Host;
    if (t.dtype != "I64" || !t.shape.empty())
      return r.fail(path, "host tensors are int64 scalars (num_batches_tracked)");
  } else if (buffer == "params" || buffer == "state") {
    t.buffer = buffer == "params" ? BufferKind::Params : BufferKind::State;
    if (t.dtype != "F32")
      return r.fail(path + ".dtype", "'" + t.dtype + "' in a float buffer; expected F32");
    int64_t size = buffer == "params" ? m.paramElements : m.stateElements;
    if (!r.integer(j, "offset", path, t.offset) || !r.dims(j, "compiled_shape", path, t.compiledShape))
      return false;
    if (product(t.compiledShape) != t.elements())
      return r.fail(path + ".compiled_shape", "has a different element count than shape");
    if (t.offset + t.elements() > size)
      return r.fail(path + ".offset", std::to_string(t.offset) + " + " + std::to_string(t.elements()) +
                                          " elements overruns " + buffer + " (" + std::to_string(size) + ")");
    const json *perm = r.member(j, "permutation", path);
    if (!perm)
      return false;
    if (!perm->is_array() || perm->size() != t.shape.size())
      return r.fail(path + ".permutation", "expected one entry per dimension of shape");
    std::vector<bool> seen(t.shape.size());
    for (size_t i = 0; i < perm->size(); ++i) {
      int64_t p = 0;
      if (!r.integerValue((*perm)[i], path + ".permutation[" + std::to_string(i) + "]", p, 0,
                          static_cast<int64_t>(t.shape.size()) - 1))
        return false;
      if (seen[p])
        return r.fail(path + ".permutation", "repeats dimension " + std::to_string(p));
      seen[p] = true;
      if (t.shape[p] != t.compiledShape[i])
        return r.fail(path + ".compiled_shape", "is not shape permuted by permutation");
      t.permutation.push_back(static_cast<int>(p));
    }
  } else {
    return r.fail(path + ".buffer", "'" + buffer + "'; expected params, state or host");
  }
  const json *init = r.member(j, "init", path);
  if (!init || !r.string(*init, "dist", path + ".init", t.initDist))
    return false;
  if (t.initDist == "normal")
    return r.number(*init, "mean", path + ".init", t.initMean) && r.number(*init, "std", path + ".init", t.initStd);
  if (t.initDist == "constant")
    return r.number(*init, "value", path + ".init", t.initValue);
  return r.fail(path + ".init.dist", "'" + t.initDist + "'; expected normal or constant");
}

bool isPlainFileName(const std::string &name) {
  return !name.empty() && name.find('/') == std::string::npos && name[0] != '.';
}

bool parseFiles(Reader &r, const json &j, Manifest &m) {
  const json *files = r.member(j, "files", "");
  if (!files)
    return false;
  if (!files->is_object() || files->empty())
    return r.expected("files", "an object naming each file with its bytes and sha256", *files);
  for (const auto &[name, record] : files->items()) {
    std::string path = "files." + name;
    BundleFile &f = m.files.emplace_back();
    f.name = name;
    if (!isPlainFileName(name))
      return r.fail(path, "'" + name + "' must be a plain file name inside the bundle");
    if (!r.integer(record, "bytes", path, f.bytes, 0, std::numeric_limits<int64_t>::max()) ||
        !r.string(record, "sha256", path, f.sha256))
      return false;
    if (f.sha256.size() != 64 || f.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      return r.fail(path + ".sha256", "expected 64 lowercase hex digits");
  }
  return true;
}

// `key` of an entry point must be `expected`, which the manifest's `from` fields imply.
bool checkEntryDims(Reader &r, const json &entry, const std::string &path, const std::string &key,
                    const std::vector<int64_t> &expected, const std::string &from) {
  std::vector<int64_t> dims;
  if (!r.dims(entry, key, path, dims))
    return false;
  if (dims != expected)
    return r.fail(path + "." + key, shapeText(dims) + " contradicts " + from + ", which give " + shapeText(expected));
  return true;
}

// The numbers that size allocations, against the ones that say what they must be.
bool crossCheck(Reader &r, const json &entries, const Manifest &m) {
  const ManifestTensor *classifier = nullptr;
  for (const ManifestTensor &t : m.tensors)
    if (t.role == "linear_weight")
      classifier = &t;
  if (!classifier || classifier->shape.size() != 2)
    return r.fail("tensors", "no classifier (a linear_weight tensor of shape [classes, features])");
  const std::string shape = classifier->name + "'s shape " + shapeText(classifier->shape);
  if (m.classes != classifier->shape[0])
    return r.fail("classes", std::to_string(m.classes) + " contradicts " + shape + " (classes x features)");
  if (m.featureSize != classifier->shape[1])
    return r.fail("entry_points.forward.features",
                  "width " + std::to_string(m.featureSize) + " contradicts " + shape + " (classes x features)");
  auto clip = [&](int64_t batch) { return std::vector<int64_t>{batch, m.frames, m.height, m.width, m.channels}; };
  struct Entry {
    std::string name;
    int64_t batch;
  };
  std::vector<Entry> compiled = {{"forward", m.forwardBatch}};
  if (!m.trainStepSymbol.empty())
    compiled.push_back({"train_step", m.trainBatch});
  for (const Entry &e : compiled) {
    const std::string path = "entry_points." + e.name;
    if (!checkEntryDims(r, entries.at(e.name), path, "clips", clip(e.batch), path + ".batch and input.shape") ||
        !checkEntryDims(r, entries.at(e.name), path, "logits", {e.batch, m.classes}, path + ".batch and classes"))
      return false;
  }
  // Each buffer holds its tensors, each on a 16-float boundary: nothing past the last one's end.
  int64_t ends[2] = {0, 0}, trainable = 0;
  for (const ManifestTensor &t : m.tensors) {
    if (t.buffer != BufferKind::Host)
      ends[t.buffer == BufferKind::State] = std::max(ends[t.buffer == BufferKind::State], t.offset + t.elements());
    trainable += t.trainable && t.buffer == BufferKind::Params ? t.elements() : 0;
  }
  const char *names[2] = {"params", "state"};
  const int64_t sizes[2] = {m.paramElements, m.stateElements};
  for (int b = 0; b < 2; ++b)
    if (sizes[b] > (ends[b] + 15) / 16 * 16)
      return r.fail(std::string("buffers.") + names[b] + ".elements",
                    std::to_string(sizes[b]) + " is larger than its tensors need (" + std::to_string(ends[b]) + ")");
  if (m.parameters != trainable)
    return r.fail("parameters", std::to_string(m.parameters) + " contradicts the trainable tensors' " +
                                    std::to_string(trainable) + " elements");
  return true;
}

} // namespace

bool verifyBundleFile(const std::string &dir, const Manifest &m, const std::string &name, std::string &error) {
  const std::string path = dir + "/" + name;
  const BundleFile *record = m.file(name);
  if (!record) {
    error = dir + "/manifest.json: files: no record of " + name;
    return false;
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  const std::string damaged = " (the bundle is damaged; rebuild it with vidc build)";
  if (st.st_size != record->bytes) {
    error = path + ": " + std::to_string(st.st_size) + " bytes, the manifest records " +
            std::to_string(record->bytes) + damaged;
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (static_cast<int64_t>(contents.size()) != record->bytes) {
    error = path + ": cannot read its " + std::to_string(record->bytes) + " bytes";
    return false;
  }
  if (sha256Hex(contents.data(), contents.size()) != record->sha256) {
    error = path + ": its SHA-256 differs from the manifest's" + damaged;
    return false;
  }
  return true;
}

bool parseManifest(const std::string &path, const std::string &text, Manifest &m, std::string &error) {
  error.clear();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = path + ": not valid JSON";
    return false;
  }
  Reader r(path, error);
  std::string format;
  int64_t version = 0;
  if (!r.string(j, "format", "", format))
    return false;
  if (format != bundle::kFormat)
    return r.fail("format", "'" + format + "'; this is not a vidnet bundle manifest");
  if (!r.integer(j, "version", "", version, 0, 1000))
    return false;
  if (version != bundle::kManifestVersion)
    return r.fail("version", std::to_string(version) + "; this runtime reads version " +
                                 std::to_string(bundle::kManifestVersion) + " (rebuild the bundle with this vidc)");
  m.version = static_cast<int>(version);
  const json *spec = r.member(j, "spec", "");
  const json *target = r.member(j, "target", "");
  const json *input = r.member(j, "input", "");
  const json *buffers = r.member(j, "buffers", "");
  const json *entries = r.member(j, "entry_points", "");
  if (!spec || !target || !input || !buffers || !entries)
    return false;
  std::vector<int64_t> inputShape;
  if (!r.string(j, "model", "", m.model) || !r.string(*spec, "path", "spec", m.specPath) ||
      !r.string(*spec, "sha256", "spec", m.specSha256) || !r.string(*target, "kind", "target", m.targetKind) ||
      !r.integer(j, "batch", "", m.batch, 1) ||
      !r.integer(j, "classes", "", m.classes, 1) || !r.dims(*input, "shape", "input", inputShape, 5) ||
      !r.integer(j, "parameters", "", m.parameters) || !r.integer(j, "macs_per_clip", "", m.macsPerClip, 0,
                                                                   std::numeric_limits<int64_t>::max()))
    return false;
  if (m.targetKind == "cpu") {
    if (!r.string(*target, "triple", "target", m.triple) || !r.string(*target, "cpu", "target", m.cpu) ||
        !r.string(*target, "features", "target", m.features) || !r.string(j, "library", "", m.library))
      return false;
    if (!isPlainFileName(m.library))
      return r.fail("library", "'" + m.library + "' must be a plain file name inside the bundle");
  } else if (m.targetKind == "cuda") {
    // The kernels and launch plans ("cuda") are read by the CUDA executor, only when it runs.
    if (!r.string(*target, "arch", "target", m.gpuArch) || !r.member(j, "cuda", ""))
      return false;
  } else {
    return r.fail("target.kind", "'" + m.targetKind + "'; this runtime runs cpu and cuda bundles");
  }
  if (inputShape.size() != 5 || inputShape[0] != m.batch)
    return r.fail("input.shape", "expected [batch, C, L, H, W]");
  m.channels = inputShape[1], m.frames = inputShape[2], m.height = inputShape[3], m.width = inputShape[4];
  const json *params = r.member(*buffers, "params", "buffers");
  const json *state = r.member(*buffers, "state", "buffers");
  const json *forward = r.member(*entries, "forward", "entry_points");
  if (!params || !state || !forward || !r.integer(*params, "elements", "buffers.params", m.paramElements) ||
      !r.integer(*state, "elements", "buffers.state", m.stateElements) ||
      !r.string(*forward, "symbol", "entry_points.forward", m.forwardSymbol) ||
      !r.integer(*forward, "batch", "entry_points.forward", m.forwardBatch, 1, 1 << 20))
    return false;
  if (m.targetKind == "cpu") {
    const json *prepare = r.member(*forward, "prepare", "entry_points.forward");
    if (!prepare || !r.string(*prepare, "symbol", "entry_points.forward.prepare", m.prepareSymbol) ||
        !r.string(*prepare, "elements_symbol", "entry_points.forward.prepare", m.preparedElementsSymbol))
      return false;
  }
  std::vector<int64_t> featureShape;
  if (!r.dims(*forward, "features", "entry_points.forward", featureShape, 2))
    return false;
  if (featureShape[0] != m.forwardBatch)
    return r.fail("entry_points.forward.features", "expected [batch, features] with the forward's batch");
  m.featureSize = featureShape[1];
  if (auto step = entries->find("train_step"); step != entries->end()) {
    const json *momentum = r.member(*buffers, "momentum", "buffers");
    int64_t momentumElements = 0;
    if (!momentum || !r.integer(*momentum, "elements", "buffers.momentum", momentumElements) ||
        !r.string(*step, "symbol", "entry_points.train_step", m.trainStepSymbol) ||
        !r.integer(*step, "batch", "entry_points.train_step", m.trainBatch, 1, 1 << 20))
      return false;
    if (momentumElements != m.paramElements)
      return r.fail("buffers.momentum.elements", "must equal buffers.params.elements (one buffer per parameter)");
    if (m.trainBatch != m.batch)
      return r.fail("entry_points.train_step.batch", "must equal batch");
  }
  const json *tensors = r.member(j, "tensors", "");
  if (!tensors)
    return false;
  if (!tensors->is_array())
    return r.fail("tensors", "expected an array");
  m.tensors.resize(tensors->size());
  for (size_t i = 0; i < tensors->size(); ++i)
    if (!parseTensor(r, (*tensors)[i], "tensors[" + std::to_string(i) + "]", m, m.tensors[i]))
      return false;
  std::vector<std::string> names;
  for (const ManifestTensor &t : m.tensors)
    names.push_back(t.name);
  std::sort(names.begin(), names.end());
  auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end())
    return r.fail("tensors", "'" + *dup + "' appears twice");
  return crossCheck(r, *entries, m) && parseFiles(r, j, m);
}

} // namespace vidnet::rt
