// Diagnostics for spec files: kinds, collection, and rendering as
// `file:line:col: error: message [Kind]` with the source line and a caret.
#pragma once

#include "dsl/SourceFile.h"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace vidnet::dsl {

enum class DiagKind {
#define DIAG_KIND(name, summary) name,
#include "dsl/DiagnosticKinds.def"
#undef DIAG_KIND
};

struct DiagKindInfo {
  DiagKind kind;
  std::string_view name;
  std::string_view summary;
};
// All kinds, in declaration order.
const std::vector<DiagKindInfo> &allDiagKinds();
std::string_view diagKindName(DiagKind kind);

enum class Severity { Error, Note };

struct Diagnostic {
  Severity severity;
  DiagKind kind;
  Loc loc;
  std::string message;
};

// Collects diagnostics for one source file. After `kMaxErrors` errors further ones are
// dropped (binary junk would otherwise print one per byte) and a final line says so.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceFile &source) : source_(source) {}

  void error(Loc loc, DiagKind kind, std::string message);
  // A note attaches to the preceding error (e.g. "previous definition is here").
  void note(Loc loc, std::string message);

  size_t errorCount() const { return errorCount_; }
  bool hasErrors() const { return errorCount_ > 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }
  const SourceFile &source() const { return source_; }

  void render(std::ostream &os) const;

  static constexpr size_t kMaxErrors = 20;

private:
  void renderOne(std::ostream &os, const Diagnostic &d) const;

  const SourceFile &source_;
  std::vector<Diagnostic> diags_;
  size_t errorCount_ = 0;
};

// "did you mean" support: the candidate closest to `word` by edit distance (case-insensitive),
// or empty if none is close enough to be a plausible typo.
std::string_view closestMatch(std::string_view word, const std::vector<std::string_view> &candidates);
// "; did you mean `x`?" or empty.
std::string didYouMean(std::string_view word, const std::vector<std::string_view> &candidates);

} // namespace vidnet::dsl
