// The bundle's manifest.json: everything the runtime needs to own and fill a model's buffers
// and call its entry points, without reading the spec or linking MLIR.
#pragma once

#include "common/BundleFormat.h"
#include "compiler/ModelGraph.h"
#include "compiler/targets/cpu/ObjectEmitter.h"
#include "compiler/transforms/BufferLayout.h"

#include <nlohmann/json.hpp>

namespace vidnet {

struct ManifestInputs {
  const ModelGraph &graph;
  const std::string &specText;
  int64_t batch;               // the batch the user asked for (train_step's)
  bool trainStep;              // the library also has vidnet_train_step at `batch`
  int64_t forwardClipsPerCall;  // forward's compiled batch; the runtime loops and threads
  const BufferLayout &layout;
  const cpu::MachineTarget &target;
  std::string library;  // the shared object's file name inside the bundle
  bool prepare = false;  // forward reads prepared weights that vidnet_forward_prepare writes (CPU)
};

// Fails (returns a null json and sets `error`) only on a compiler bug: a float tensor of the
// graph missing from the layout.
nlohmann::ordered_json bundleManifest(const ManifestInputs &in, std::string &error);

// A file's entry in the manifest's "files": its byte size and SHA-256, which the runtime checks
// before it maps or loads the file.
nlohmann::ordered_json fileRecord(const std::string &contents);

} // namespace vidnet
