// Recursive-descent parser for .vnet specs. Line-oriented: an error skips to the end of its
// line and parsing goes on, so one run reports every syntax error in the file.
#pragma once

#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

#include <optional>

namespace vidnet::dsl {

// Parses `source`; errors go to `diags`. A statement whose line had a syntax error is kept
// with `broken` set and no options, so later checks neither report it as missing nor
// pile further errors onto it.
Spec parse(const SourceFile &source, DiagnosticEngine &diags);

// Option names each statement accepts (for "did you mean" and applicability checks).
const std::vector<std::string_view> &optionsOf(StatementKind kind);

// Stream blocks nest at most this deep; deeper input is reported, not recursed into.
constexpr int kMaxStreamDepth = 4;
// Integers in a spec are at most this large.
constexpr int64_t kMaxInteger = 2147483647;

} // namespace vidnet::dsl
