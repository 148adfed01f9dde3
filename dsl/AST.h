// The parsed spec: one node per statement, every node and value with its source location.
// The AST records what was written; meaning (shapes, defaults, M_i) comes in elaboration.
#pragma once

#include "dsl/SourceFile.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <ostream>
#include <string>
#include <vector>

namespace vidnet::dsl {

enum class ConvKind { Conv3d, Conv2d, Conv2Plus1d };
std::string_view convKindName(ConvKind kind);

// An option value as written: `64`, `1x2x2`, `230,288`, `1e-3`, or a word such as `time`.
struct Value {
  enum class Form { Integer, Dims, List, Word, Number };
  Form form = Form::Integer;
  std::vector<int64_t> ints;  // one for Integer, the parts of Dims or List
  std::string word;           // Word; Number keeps its text as written
  double number = 0;          // Number
  Loc loc;
};

struct Option {
  std::string name;
  Loc loc;
  Value value;
};

enum class StatementKind { Model, Input, Stem, Stage, Pool, Head, Stream, Connect };
std::string_view statementKeyword(StatementKind kind);

struct Statement {
  StatementKind kind;
  Loc loc;
  std::string name;         // model NAME, input NAME, stream NAME, pool KIND (`max`)
  Loc nameLoc;
  ConvKind conv = ConvKind::Conv3d;  // stem and stage
  Loc convLoc;
  int64_t repeat = 1;       // stage `xN`
  Loc repeatLoc;            // line 0 when `xN` was not written
  std::vector<Option> options;
  std::string from, to;     // connect FROM -> TO
  Loc fromLoc, toLoc;
  std::vector<Statement> body;  // stream { ... }
  bool broken = false;      // its line had a syntax error (already reported)

  const Option *option(std::string_view optionName) const;
};

struct Spec {
  std::string path;
  std::vector<Statement> statements;
};

// A value as written (`64`, `1x2x2`, `230,288`, `time`). Messages cap the list items (then
// `,...`) and word characters, so hostile input cannot make a message huge.
std::string valueText(const Value &value, size_t maxItems = SIZE_MAX, size_t maxWordChars = SIZE_MAX);

// The `--emit=ast` form: one node per line, indented, with line:col.
void printAST(const Spec &spec, std::ostream &os);

} // namespace vidnet::dsl
