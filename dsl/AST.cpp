// Names for AST enums and the `--emit=ast` printer.
#include "dsl/AST.h"

namespace vidnet::dsl {

std::string_view convKindName(ConvKind kind) {
  switch (kind) {
  case ConvKind::Conv3d: return "conv3d";
  case ConvKind::Conv2d: return "conv2d";
  case ConvKind::Conv2Plus1d: return "conv(2+1)d";
  }
  return "conv";
}

std::string_view statementKeyword(StatementKind kind) {
  switch (kind) {
  case StatementKind::Model: return "model";
  case StatementKind::Input: return "input";
  case StatementKind::Stem: return "stem";
  case StatementKind::Stage: return "stage";
  case StatementKind::Pool: return "pool";
  case StatementKind::Head: return "head";
  case StatementKind::Stream: return "stream";
  case StatementKind::Connect: return "connect";
  }
  return "statement";
}

std::string valueText(const Value &v, size_t maxItems, size_t maxWordChars) {
  if (v.form == Value::Form::Word || v.form == Value::Form::Number)
    return v.word.substr(0, maxWordChars);
  std::string out;
  for (size_t i = 0; i < v.ints.size() && i < maxItems; ++i)
    out += (i ? (v.form == Value::Form::Dims ? "x" : ",") : "") + std::to_string(v.ints[i]);
  return v.ints.size() > maxItems ? out + ",..." : out;
}

const Option *Statement::option(std::string_view optionName) const {
  for (const Option &o : options)
    if (o.name == optionName)
      return &o;
  return nullptr;
}

namespace {

std::ostream &operator<<(std::ostream &os, Loc loc) { return os << loc.line << ':' << loc.col; }

void printStatement(const Statement &s, std::ostream &os, int depth) {
  std::string indent(2 * static_cast<size_t>(depth), ' ');
  os << indent << statementKeyword(s.kind) << " @" << s.loc;
  if (!s.name.empty())
    os << " name=" << s.name << " @" << s.nameLoc;
  if (s.kind == StatementKind::Stem || s.kind == StatementKind::Stage)
    os << " conv=" << convKindName(s.conv) << " @" << s.convLoc;
  if (s.kind == StatementKind::Stage && s.repeatLoc.line != 0)
    os << " repeat=" << s.repeat << " @" << s.repeatLoc;
  if (s.kind == StatementKind::Connect)
    os << " from=" << s.from << " @" << s.fromLoc << " to=" << s.to << " @" << s.toLoc;
  os << '\n';
  for (const Option &o : s.options) {
    os << indent << "  option " << o.name << '=' << valueText(o.value) << " @" << o.loc << '\n';
  }
  for (const Statement &child : s.body)
    printStatement(child, os, depth + 1);
}

} // namespace

void printAST(const Spec &spec, std::ostream &os) {
  os << "spec " << spec.path << '\n';
  for (const Statement &s : spec.statements)
    printStatement(s, os, 1);
}

} // namespace vidnet::dsl
