// Elaboration: checks a parsed spec's meaning and expands it into a ModelGraph.
#pragma once

#include "compiler/ModelGraph.h"
#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

#include <optional>

namespace vidnet {

struct ElaborateOptions {
  std::optional<Shape> input;      // overrides the spec's `input` (vidc --input CxLxHxW)
  std::optional<int64_t> classes;  // overrides `head classes=` (vidc --classes K)
};

// Limits that keep a hostile spec from exhausting memory; real models are far below them.
constexpr int64_t kMaxLayers = 100000;

// Reports every semantic error it can find; returns a graph only when there were none
// (including none from parsing, which it does not repeat).
std::optional<ModelGraph> elaborate(const dsl::Spec &spec, const ElaborateOptions &options,
                                    dsl::DiagnosticEngine &diags);

} // namespace vidnet
