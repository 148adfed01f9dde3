// The front end as one call: read a spec file, parse it, elaborate it into a ModelGraph.
#pragma once

#include "compiler/Elaborate.h"

#include <memory>

namespace vidnet {

struct FrontendResult {
  std::unique_ptr<dsl::SourceFile> source;
  std::unique_ptr<dsl::DiagnosticEngine> diags;  // refers to *source
  dsl::Spec spec;
  std::optional<ModelGraph> graph;  // set when elaboration ran and succeeded
  bool ok() const { return !diags->hasErrors(); }
};

enum class FrontendStage { Parse, Elaborate };

// A file that cannot be read is reported as a FileError diagnostic, like any other error.
FrontendResult runFrontend(const std::string &path, const ElaborateOptions &options,
                           FrontendStage until = FrontendStage::Elaborate);
// The same on text already in memory (tests, the fuzzer).
FrontendResult runFrontendOnText(const std::string &path, std::string text,
                                 const ElaborateOptions &options,
                                 FrontendStage until = FrontendStage::Elaborate);

} // namespace vidnet
