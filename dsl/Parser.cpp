// The .vnet parser. The grammar (also in docs/dsl.md) is written above each parse function.
#include "dsl/Parser.h"

#include "dsl/Lexer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace vidnet::dsl {

namespace {

const std::vector<std::string_view> kStatementKeywords = {"model", "input",  "stem",   "stage",
                                                          "pool",  "head",   "stream", "connect"};
const std::vector<std::string_view> kConvKinds = {"conv3d", "conv2d", "conv(2+1)d"};

std::optional<StatementKind> statementKind(std::string_view keyword) {
  for (StatementKind k : {StatementKind::Model, StatementKind::Input, StatementKind::Stem,
                          StatementKind::Stage, StatementKind::Pool, StatementKind::Head,
                          StatementKind::Stream, StatementKind::Connect})
    if (statementKeyword(k) == keyword)
      return k;
  return std::nullopt;
}

} // namespace

const std::vector<std::string_view> &optionsOf(StatementKind kind) {
  static const std::vector<std::string_view> none, model = {"bn_eps"}, input = {"c", "l", "h", "w"},
      stem = {"t", "d", "ch", "mid", "stride", "pad", "fold"},
      stage = {"t", "d", "ch", "mid", "stride", "pad", "block", "groups"},
      pool = {"k", "stride", "pad"}, head = {"classes"}, connect = {"mode"};
  switch (kind) {
  case StatementKind::Input: return input;
  case StatementKind::Stem: return stem;
  case StatementKind::Stage: return stage;
  case StatementKind::Pool: return pool;
  case StatementKind::Head: return head;
  case StatementKind::Connect: return connect;
  case StatementKind::Model: return model;
  case StatementKind::Stream: return none;
  }
  return none;
}

namespace {

std::string quote(std::string_view text) {
  // Quoted tokens are cut so a 1 MB word does not become a 1 MB message, and bytes that are
  // not printable ASCII are shown as `?`, as in the quoted source line.
  std::string out = "`";
  for (size_t i = 0; i < text.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  }
  return out + (text.size() > 40 ? "...`" : "`");
}

std::string describe(const Token &t) {
  if (t.kind == TokenKind::Newline || t.kind == TokenKind::End)
    return std::string(tokenKindName(t.kind));
  return quote(t.text);
}

class Parser {
public:
  Parser(const SourceFile &source, DiagnosticEngine &diags)
      : tokens_(lex(source, diags)), diags_(diags) {}

  Spec run(const std::string &path) {
    Spec spec;
    spec.path = path;
    parseStatements(spec.statements, 0);
    return spec;
  }

private:
  const Token &peek() const { return tokens_[pos_]; }
  const Token &next() {
    const Token &t = tokens_[pos_];
    if (t.kind != TokenKind::End)
      ++pos_;
    return t;
  }
  bool at(TokenKind kind) const { return peek().kind == kind; }
  bool atLineEnd() const { return at(TokenKind::Newline) || at(TokenKind::End); }

  // Reports an UnexpectedToken error unless the token is junk the lexer already reported.
  void unexpected(const Token &t, std::string message) {
    if (t.kind != TokenKind::Invalid)
      diags_.error(t.loc, DiagKind::UnexpectedToken, std::move(message));
  }

  // Error recovery: drop the rest of the line.
  void skipLine() {
    while (!atLineEnd())
      next();
  }

  // statements = { [statement] newline } ;  inside a stream block, up to the closing `}`.
  void parseStatements(std::vector<Statement> &out, int depth) {
    while (!at(TokenKind::End)) {
      if (at(TokenKind::Newline)) {
        next();
        continue;
      }
      if (at(TokenKind::RBrace)) {
        if (depth > 0)
          return;
        diags_.error(peek().loc, DiagKind::UnbalancedBrace, "`}` without an open stream block");
        next();
        skipLine();
        continue;
      }
      if (at(TokenKind::Invalid)) {  // already reported by the lexer
        skipLine();
        continue;
      }
      size_t errorsBefore = diags_.errorCount();
      std::optional<Statement> s = parseStatement(depth);
      if (!atLineEnd()) {
        if (diags_.errorCount() == errorsBefore)
          unexpected(peek(), "expected end of line, got " + describe(peek()));
        skipLine();
      }
      if (s)
        out.push_back(std::move(*s));
    }
  }

  // statement = model | input | stem | stage | head | stream | connect ;
  std::optional<Statement> parseStatement(int depth) {
    const Token &kw = next();
    if (kw.kind != TokenKind::Word) {
      unexpected(kw, "expected a statement (model, input, stem, stage, pool, head), got " + describe(kw));
      return std::nullopt;
    }
    Statement s;
    s.loc = kw.loc;
    if (std::optional<StatementKind> kind = statementKind(kw.text)) {
      s.kind = *kind;
    } else {
      // A typo of a keyword stands in for that statement, so it is not also reported missing.
      // A `{` on the line means a stream block, whatever the closest keyword is.
      bool opensBlock = false;
      for (size_t i = pos_; tokens_[i].kind != TokenKind::Newline && tokens_[i].kind != TokenKind::End; ++i)
        opensBlock |= tokens_[i].kind == TokenKind::LBrace;
      std::string_view meant = opensBlock ? "stream" : closestMatch(kw.text, kStatementKeywords);
      diags_.error(kw.loc, DiagKind::UnknownStatement,
                   "unknown statement " + quote(kw.text) +
                       (meant.empty() ? " (expected model, input, stem, stage, pool or head)"
                                      : "; did you mean `" + std::string(meant) + "`?"));
      if (opensBlock) {
        s.kind = StatementKind::Stream;
        s.broken = true;
        parseStream(s, depth);  // consumes the block, so its `}` is not reported as stray
        return s;
      }
      if (meant.empty() || meant == "stream" || meant == "connect")
        return std::nullopt;
      s.kind = *statementKind(meant);
      s.broken = true;
      skipLine();
      return s;
    }
    bool ok = true;
    switch (s.kind) {
    case StatementKind::Model: ok = parseName(s, "a model name after `model`", true) && parseOptions(s); break;
    case StatementKind::Input: ok = parseName(s, "", false) && parseOptions(s); break;
    case StatementKind::Stem:
    case StatementKind::Stage: ok = parseConv(s) && parseOptions(s); break;
    case StatementKind::Pool: ok = parsePoolKind(s) && parseOptions(s); break;
    case StatementKind::Head: ok = parseOptions(s); break;
    case StatementKind::Stream: ok = parseStream(s, depth); break;
    case StatementKind::Connect: ok = parseConnect(s) && parseOptions(s); break;
    }
    if (!ok) {
      // Keep the keyword so the statement does not also count as missing.
      s.options.clear();
      s.broken = true;
    }
    return s;
  }

  // name = word ;   (optional for `input`)
  bool parseName(Statement &s, std::string_view what, bool required) {
    if (at(TokenKind::Word) && !(s.kind == StatementKind::Input && tokens_[pos_ + 1].kind == TokenKind::Equals)) {
      const Token &t = next();
      s.name = std::string(t.text);
      s.nameLoc = t.loc;
      return true;
    }
    if (!required)
      return true;
    unexpected(peek(), "expected " + std::string(what) + ", got " + describe(peek()));
    return false;
  }

  // pool = "pool" "max" options ;   the kind is kept as the statement's name
  bool parsePoolKind(Statement &s) {
    const Token &t = peek();
    if (t.kind != TokenKind::Word || tokens_[pos_ + 1].kind == TokenKind::Equals) {
      unexpected(t, "expected a pooling kind (max) after `pool`, got " +
                        (t.kind == TokenKind::Word ? quote(std::string(t.text) + "=") : describe(t)));
      return false;
    }
    next();
    s.nameLoc = t.loc;
    if (t.text != "max") {
      diags_.error(t.loc, DiagKind::UnknownPoolKind,
                   "unknown pooling kind " + quote(t.text) +
                       " (expected max; global average pooling is the head's)");
      return false;
    }
    s.name = std::string(t.text);
    return true;
  }

  // conv = "conv3d" | "conv2d" | "conv(2+1)d" ;
  bool parseConv(Statement &s) {
    const Token &t = peek();
    if (t.kind != TokenKind::Word || tokens_[pos_ + 1].kind == TokenKind::Equals) {
      unexpected(t, "expected a convolution kind (conv3d, conv2d, conv(2+1)d) after `" +
                        std::string(statementKeyword(s.kind)) + "`, got " +
                        (t.kind == TokenKind::Word ? quote(std::string(t.text) + "=") : describe(t)));
      return false;
    }
    next();
    s.convLoc = t.loc;
    if (t.text == "conv3d") s.conv = ConvKind::Conv3d;
    else if (t.text == "conv2d") s.conv = ConvKind::Conv2d;
    else if (t.text == "conv(2+1)d") s.conv = ConvKind::Conv2Plus1d;
    else {
      // A `+` means (2+1)D whatever the edit distance to `conv2d` says.
      std::string hint = t.text.find('+') != std::string_view::npos
                             ? "; did you mean `conv(2+1)d`?"
                             : didYouMean(t.text, kConvKinds);
      diags_.error(t.loc, DiagKind::UnknownConvKind,
                   "unknown convolution kind " + quote(t.text) +
                       (hint.empty() ? " (expected conv3d, conv2d or conv(2+1)d)" : hint));
      return false;
    }
    return true;
  }

  // options = { option | repeat } ;  option = word "=" value ;  repeat = "x" integer (stage only)
  bool parseOptions(Statement &s) {
    bool ok = true;
    while (!atLineEnd() && !at(TokenKind::LBrace)) {
      const Token &t = peek();
      if (s.kind == StatementKind::Stage && t.kind == TokenKind::Word && isRepeat(t.text)) {
        next();
        if (s.repeatLoc.line != 0) {
          diags_.error(t.loc, DiagKind::DuplicateOption, "repeat count given twice");
          diags_.note(s.repeatLoc, "first repeat count is here");
          ok = false;
          continue;
        }
        s.repeatLoc = t.loc;
        std::optional<int64_t> n = parseInteger(t.text.substr(1), Loc{t.loc.line, t.loc.col + 1});
        if (!n)
          return false;
        s.repeat = *n;
        continue;
      }
      if (t.kind == TokenKind::Dims && s.kind == StatementKind::Stage && t.text.back() == 'x') {
        diags_.error(t.loc, DiagKind::UnexpectedToken,
                     "expected an option `name=value` or a block count `xN`, got " + quote(t.text) +
                         "; did you mean `x" + std::string(t.text.substr(0, t.text.size() - 1)) + "`?");
        return false;
      }
      if (t.kind != TokenKind::Word) {
        unexpected(t, "expected an option `name=value`, got " + describe(t));
        return false;
      }
      next();
      Option o;
      o.name = std::string(t.text);
      o.loc = t.loc;
      if (!at(TokenKind::Equals)) {
        badBlockCount(s, t);
        return false;
      }
      next();
      if (!parseValue(o))
        return false;
      if (!checkOptionName(s, o)) {
        ok = false;
        continue;
      }
      if (const Option *prev = s.option(o.name)) {
        diags_.error(o.loc, DiagKind::DuplicateOption, "option `" + o.name + "` given twice");
        diags_.note(prev->loc, "first given here");
        ok = false;
        continue;
      }
      s.options.push_back(std::move(o));
    }
    return ok;
  }

  // A word not followed by `=`: most often a mistyped block count (`X4`, `x 4`, `x2` on a stem).
  void badBlockCount(const Statement &s, const Token &word) {
    std::string_view w = word.text;
    bool countLike = isRepeat(w, /*anyCase=*/true);
    if (countLike && s.kind != StatementKind::Stage) {
      diags_.error(word.loc, DiagKind::UnexpectedToken,
                   "block counts like " + quote(w) + " belong on `stage`, not `" +
                       std::string(statementKeyword(s.kind)) + "`");
    } else if (countLike) {
      diags_.error(word.loc, DiagKind::UnexpectedToken,
                   "block counts are written in lowercase; did you mean `x" +
                       std::string(w.substr(1)) + "`?");
    } else if (w.size() >= 3 && w[0] == 'x' && w[1] == '-' && s.kind == StatementKind::Stage) {
      diags_.error(word.loc, DiagKind::NonPositiveSize,
                   "a stage needs at least one block, got " + quote(w));
    } else if ((w == "x" || w == "X") && at(TokenKind::Integer)) {
      diags_.error(word.loc, DiagKind::UnexpectedToken,
                   "write the block count without a space; did you mean `x" +
                       std::string(peek().text) + "`?");
    } else {
      unexpected(peek(), "expected `=` after option name " + quote(w) + ", got " + describe(peek()));
    }
  }

  // `x4`; with anyCase also the mistyped `X4`.
  static bool isRepeat(std::string_view w, bool anyCase = false) {
    return w.size() >= 2 && (w[0] == 'x' || (anyCase && w[0] == 'X')) &&
           std::all_of(w.begin() + 1, w.end(), [](char c) { return c >= '0' && c <= '9'; });
  }

  bool checkOptionName(const Statement &s, const Option &o) {
    const auto &own = optionsOf(s.kind);
    if (std::find(own.begin(), own.end(), o.name) != own.end())
      return true;
    std::string keyword(statementKeyword(s.kind));
    for (StatementKind other : {StatementKind::Model, StatementKind::Input, StatementKind::Stem,
                                StatementKind::Stage, StatementKind::Pool, StatementKind::Head,
                                StatementKind::Connect}) {
      const auto &names = optionsOf(other);
      if (std::find(names.begin(), names.end(), o.name) != names.end()) {
        diags_.error(o.loc, DiagKind::InapplicableOption,
                     "option `" + o.name + "` belongs to `" + std::string(statementKeyword(other)) +
                         "`, not `" + keyword + "`");
        return false;
      }
    }
    std::string message = "unknown option `" + o.name + "` for `" + keyword + "`";
    std::string hint = didYouMean(o.name, own);
    if (hint.empty() && !own.empty()) {
      message += " (expected one of";
      for (std::string_view n : own)
        message += " " + std::string(n);
      message += ")";
    }
    diags_.error(o.loc, DiagKind::UnknownOption, message + hint);
    return false;
  }

  // value = integer { "," integer } | dims | word ;   dims = integer "x" integer { "x" integer }
  bool parseValue(Option &o) {
    // A missing value must not swallow the newline (the next line would be lost) nor the
    // next option's name.
    if (atLineEnd() || (at(TokenKind::Word) && tokens_[pos_ + 1].kind == TokenKind::Equals)) {
      unexpected(peek(), "expected a value after `" + o.name + "=`, got " + describe(peek()));
      return false;
    }
    const Token &t = next();
    o.value.loc = t.loc;
    switch (t.kind) {
    case TokenKind::Word:
      o.value.form = Value::Form::Word;
      o.value.word = std::string(t.text);
      return true;
    case TokenKind::Integer: {
      std::optional<int64_t> n = parseInteger(t.text, t.loc);
      if (!n)
        return false;
      o.value.ints.push_back(*n);
      o.value.form = Value::Form::Integer;
      while (at(TokenKind::Comma)) {
        next();
        const Token &item = peek();
        if (item.kind != TokenKind::Integer) {
          unexpected(item, "expected an integer after `,` in the value of `" + o.name + "`, got " +
                               describe(item));
          return false;
        }
        next();
        std::optional<int64_t> m = parseInteger(item.text, item.loc);
        if (!m)
          return false;
        o.value.ints.push_back(*m);
        o.value.form = Value::Form::List;
      }
      return true;
    }
    case TokenKind::Dims: {
      std::string_view rest = t.text;
      while (true) {
        size_t x = rest.find('x');
        std::string_view part = rest.substr(0, x);
        if (part.empty() || !std::all_of(part.begin(), part.end(),
                                         [](char c) { return (c >= '0' && c <= '9') || c == '-'; })) {
          diags_.error(t.loc, DiagKind::InvalidValue,
                       quote(t.text) + " is neither an integer nor dimensions like `1x2x2`");
          return false;
        }
        Loc partLoc{t.loc.line, t.loc.col + static_cast<uint32_t>(part.data() - t.text.data())};
        std::optional<int64_t> n = parseInteger(part, partLoc);
        if (!n)
          return false;
        o.value.ints.push_back(*n);
        if (x == std::string_view::npos)
          break;
        rest = rest.substr(x + 1);
      }
      o.value.form = Value::Form::Dims;
      return true;
    }
    case TokenKind::Float: {
      o.value.form = Value::Form::Number;
      o.value.word = std::string(t.text);
      char *end = nullptr;
      o.value.number = std::strtod(o.value.word.c_str(), &end);
      if (end != o.value.word.c_str() + o.value.word.size() || !std::isfinite(o.value.number)) {
        diags_.error(t.loc, DiagKind::InvalidNumber, "malformed number " + quote(t.text));
        return false;
      }
      return true;
    }
    default:
      unexpected(t, "expected a value after `" + o.name + "=`, got " + describe(t));
      return false;
    }
  }

  std::optional<int64_t> parseInteger(std::string_view text, Loc loc) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value >= -kMaxInteger &&
        value <= kMaxInteger)
      return value;
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && end == text.data() + text.size()))
      diags_.error(loc, DiagKind::InvalidNumber,
                   "number " + quote(text) + " is out of range (at most " +
                       std::to_string(kMaxInteger) + ")");
    else
      diags_.error(loc, DiagKind::InvalidNumber, "malformed number " + quote(text));
    return std::nullopt;
  }

  // stream = "stream" name "{" newline statements "}" ;   (reserved: parsed, not elaborated)
  bool parseStream(Statement &s, int depth) {
    if (!parseName(s, "a stream name after `stream`", true))
      return false;
    if (!at(TokenKind::LBrace)) {
      unexpected(peek(), "expected `{` after `stream " + s.name + "`, got " + describe(peek()));
      return false;
    }
    Loc open = next().loc;
    if (depth + 1 > kMaxStreamDepth) {
      diags_.error(open, DiagKind::NestingTooDeep,
                   "stream blocks nest more than " + std::to_string(kMaxStreamDepth) + " deep");
      skipBlock();
      return false;
    }
    parseStatements(s.body, depth + 1);
    if (!at(TokenKind::RBrace)) {
      diags_.error(open, DiagKind::UnbalancedBrace, "stream block `" + s.name + "` is never closed");
      return false;
    }
    next();
    return true;
  }

  // Skips to the `}` matching an already consumed `{`, without recursion.
  void skipBlock() {
    size_t open = 1;
    while (open > 0 && !at(TokenKind::End)) {
      TokenKind k = next().kind;
      open += k == TokenKind::LBrace;
      open -= k == TokenKind::RBrace;
    }
  }

  // connect = "connect" ref "->" ref { option } ;   (reserved: parsed, not elaborated)
  bool parseConnect(Statement &s) {
    if (!at(TokenKind::Word)) {
      unexpected(peek(), "expected a layer reference such as `flow.layer2` after `connect`, got " +
                             describe(peek()));
      return false;
    }
    s.from = std::string(peek().text);
    s.fromLoc = next().loc;
    if (!at(TokenKind::Arrow)) {
      unexpected(peek(), "expected `->` after " + quote(s.from) + ", got " + describe(peek()));
      return false;
    }
    next();
    if (!at(TokenKind::Word)) {
      unexpected(peek(), "expected a layer reference after `->`, got " + describe(peek()));
      return false;
    }
    s.to = std::string(peek().text);
    s.toLoc = next().loc;
    return true;
  }

  std::vector<Token> tokens_;
  DiagnosticEngine &diags_;
  size_t pos_ = 0;
};

} // namespace

Spec parse(const SourceFile &source, DiagnosticEngine &diags) {
  return Parser(source, diags).run(source.path());
}

} // namespace vidnet::dsl
