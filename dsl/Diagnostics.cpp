// Diagnostic collection, rendering with a quoted source line and caret, and typo suggestions.
#include "dsl/Diagnostics.h"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace vidnet::dsl {

const std::vector<DiagKindInfo> &allDiagKinds() {
  static const std::vector<DiagKindInfo> kinds = {
#define DIAG_KIND(name, summary) {DiagKind::name, #name, summary},
#include "dsl/DiagnosticKinds.def"
#undef DIAG_KIND
  };
  return kinds;
}

std::string_view diagKindName(DiagKind kind) {
  return allDiagKinds()[static_cast<size_t>(kind)].name;
}

void DiagnosticEngine::error(Loc loc, DiagKind kind, std::string message) {
  ++errorCount_;
  if (errorCount_ > kMaxErrors)
    return;
  diags_.push_back({Severity::Error, kind, loc, std::move(message)});
}

void DiagnosticEngine::note(Loc loc, std::string message) {
  if (errorCount_ > kMaxErrors)
    return;
  diags_.push_back({Severity::Note, DiagKind::FileError, loc, std::move(message)});
}

namespace {

// The quoted line is cut to a window around the caret so a 1 MB line prints as one screen
// line; non-printable bytes become '?' so junk cannot garble the terminal.
constexpr size_t kQuoteWidth = 100;

void renderQuote(std::ostream &os, std::string_view line, uint32_t col) {
  size_t caret = col == 0 ? 0 : col - 1;
  caret = std::min(caret, line.size());
  size_t begin = caret > kQuoteWidth / 2 ? caret - kQuoteWidth / 2 : 0;
  size_t end = std::min(line.size(), begin + kQuoteWidth);
  std::string quoted, marker;
  if (begin > 0) {
    quoted += "...";
    marker += "   ";
  }
  for (size_t i = begin; i < end; ++i) {
    unsigned char ch = static_cast<unsigned char>(line[i]);
    char shown = ch == '\t' || (ch >= 0x20 && ch < 0x7f) ? static_cast<char>(ch) : '?';
    quoted += shown;
    if (i < caret)
      marker += shown == '\t' ? '\t' : ' ';
  }
  if (end < line.size())
    quoted += "...";
  marker += '^';
  os << quoted << '\n' << marker << '\n';
}

} // namespace

void DiagnosticEngine::render(std::ostream &os) const {
  // Source order (the lexer reports before the parser and elaboration), notes staying with
  // their error; diagnostics without a position come first.
  std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) into diags_
  for (size_t i = 0; i < diags_.size(); ++i)
    if (diags_[i].severity == Severity::Error || groups.empty())
      groups.push_back({i, i + 1});
    else
      groups.back().second = i + 1;
  std::sort(groups.begin(), groups.end(), [&](const auto &a, const auto &b) {
    Loc la = diags_[a.first].loc, lb = diags_[b.first].loc;
    return std::tuple(la.line, la.col, a.first) < std::tuple(lb.line, lb.col, b.first);
  });
  for (auto [begin, end] : groups)
    for (size_t i = begin; i < end; ++i)
      renderOne(os, diags_[i]);
  if (errorCount_ > kMaxErrors)
    os << source_.path() << ": note: " << errorCount_ - kMaxErrors
       << " more errors not shown; fix the ones above first\n";
}

void DiagnosticEngine::renderOne(std::ostream &os, const Diagnostic &d) const {
  {
    os << source_.path();
    if (d.loc.line > 0)
      os << ':' << d.loc.line << ':' << d.loc.col;
    if (d.severity == Severity::Error)
      os << ": error: " << d.message << " [" << diagKindName(d.kind) << "]\n";
    else
      os << ": note: " << d.message << '\n';
    if (d.loc.line > 0 && d.loc.line <= source_.lineCount())
      renderQuote(os, source_.lineText(d.loc.line), d.loc.col);
  }
}

namespace {

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the most
// common typo (`inptu`, `sitde`).
size_t editDistance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

} // namespace

std::string_view closestMatch(std::string_view word, const std::vector<std::string_view> &candidates) {
  // Long junk words are never typos of our short keywords; skip the quadratic work.
  if (word.empty() || word.size() > 32)
    return {};
  std::string_view best;
  size_t bestDistance = SIZE_MAX;
  for (std::string_view c : candidates) {
    size_t d = editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  // Allow one edit for short words, up to a third of the length for longer ones.
  size_t allowed = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
  return bestDistance <= allowed ? best : std::string_view{};
}

std::string didYouMean(std::string_view word, const std::vector<std::string_view> &candidates) {
  std::string_view match = closestMatch(word, candidates);
  if (match.empty())
    return {};
  return "; did you mean `" + std::string(match) + "`?";
}

} // namespace vidnet::dsl
