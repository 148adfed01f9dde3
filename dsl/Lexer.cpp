// The spec lexer: words, numbers, `NxNxN` dimension lists, punctuation, comments, newlines.
#include "dsl/Lexer.h"

#include <cctype>

namespace vidnet::dsl {

std::string_view tokenKindName(TokenKind kind) {
  switch (kind) {
  case TokenKind::Word: return "word";
  case TokenKind::Integer: return "integer";
  case TokenKind::Dims: return "dimensions";
  case TokenKind::Float: return "number";
  case TokenKind::Equals: return "`=`";
  case TokenKind::Comma: return "`,`";
  case TokenKind::LBrace: return "`{`";
  case TokenKind::RBrace: return "`}`";
  case TokenKind::Arrow: return "`->`";
  case TokenKind::Newline: return "end of line";
  case TokenKind::Invalid: return "invalid character";
  case TokenKind::End: return "end of file";
  }
  return "token";
}

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isAlnum(char c) { return isAlpha(c) || isDigit(c); }

class Lexer {
public:
  Lexer(const SourceFile &source, DiagnosticEngine &diags)
      : text_(source.text()), diags_(diags) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    // Junk is reported once per line: the first bad byte says enough, the rest is noise.
    bool invalidOnLine = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      Loc loc{line_, col()};
      size_t start = pos_;
      if (c == '\n') {
        if (pos_ > lineStart_ && text_[pos_ - 1] == '\r')  // CRLF: the line ends at the \r
          --loc.col;
        tokens.push_back({TokenKind::Newline, text_.substr(start, 1), loc});
        ++pos_;
        ++line_;
        lineStart_ = pos_;
        invalidOnLine = false;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
        continue;
      }
      if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          ++pos_;
        continue;
      }
      TokenKind kind = TokenKind::Invalid;
      if (isAlpha(c)) {
        kind = TokenKind::Word;
        lexWord();
      } else if (isDigit(c) || (c == '-' && pos_ + 1 < text_.size() && isDigit(text_[pos_ + 1]))) {
        kind = lexNumber();
      } else if (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '>') {
        kind = TokenKind::Arrow;
        pos_ += 2;
      } else if (c == '=' || c == ',' || c == '{' || c == '}') {
        kind = c == '=' ? TokenKind::Equals
               : c == ',' ? TokenKind::Comma
               : c == '{' ? TokenKind::LBrace
                          : TokenKind::RBrace;
        ++pos_;
      } else {
        ++pos_;
      }
      if (kind == TokenKind::Invalid && !invalidOnLine) {
        diags_.error(loc, DiagKind::InvalidCharacter, describeInvalid(c));
        invalidOnLine = true;
      }
      tokens.push_back({kind, text_.substr(start, pos_ - start), loc});
    }
    Loc endLoc{line_, col()};
    tokens.push_back({TokenKind::Newline, {}, endLoc});
    tokens.push_back({TokenKind::End, {}, endLoc});
    return tokens;
  }

private:
  uint32_t col() const { return static_cast<uint32_t>(pos_ - lineStart_ + 1); }

  // word = alpha { alnum | "." | "-" alnum } ; plus the special form conv(2+1)d, where the
  // parenthesised part is taken verbatim so `conv(1+2)d` can be named in a diagnostic.
  void lexWord() {
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (isAlnum(c) || c == '.') {
        ++pos_;
      } else if (c == '-' && pos_ + 1 < text_.size() && isAlnum(text_[pos_ + 1])) {
        ++pos_;
      } else if (c == '+' && text_.substr(start, pos_ - start) == "conv2") {
        // `conv2+1d`: keep it one word so the diagnostic can suggest `conv(2+1)d`.
        while (pos_ < text_.size() && (isAlnum(text_[pos_]) || text_[pos_] == '+'))
          ++pos_;
        return;
      } else if (c == '(' && text_.substr(start, pos_ - start) == "conv") {
        size_t close = pos_ + 1;
        while (close < text_.size() && close - pos_ <= 8 &&
               (isAlnum(text_[close]) || text_[close] == '+'))
          ++close;
        if (close >= text_.size() || text_[close] != ')')
          return;
        pos_ = close + 1;
      } else {
        return;
      }
    }
  }

  // integer = ["-"] digit {digit} ; dims = integer "x" integer {"x" integer} ;
  // float = integer ["." digit {digit}] [("e" | "E") ["-" | "+"] digit {digit}] with "." or "e".
  // Letters glued to a number (`3d`, `4x`) are swallowed into one Dims token, which the
  // parser then rejects as a whole instead of as two confusing tokens.
  TokenKind lexNumber() {
    if (text_[pos_] == '-')
      ++pos_;
    while (pos_ < text_.size() && isDigit(text_[pos_]))
      ++pos_;
    bool fraction = pos_ + 1 < text_.size() && text_[pos_] == '.' && isDigit(text_[pos_ + 1]);
    if (fraction) {
      ++pos_;
      while (pos_ < text_.size() && isDigit(text_[pos_]))
        ++pos_;
    }
    if (lexExponent() || fraction) {
      // Letters glued on (`0.5f`) make a malformed number the parser names as a whole.
      while (pos_ < text_.size() && isAlnum(text_[pos_]))
        ++pos_;
      return TokenKind::Float;
    }
    if (pos_ < text_.size() && isAlpha(text_[pos_])) {
      while (pos_ < text_.size() &&
             (isAlnum(text_[pos_]) ||
              (text_[pos_] == '-' && pos_ + 1 < text_.size() && isDigit(text_[pos_ + 1]))))
        ++pos_;
      return TokenKind::Dims;
    }
    return TokenKind::Integer;
  }

  // `e-3`, `E5`, `e+2` after a number's digits.
  bool lexExponent() {
    size_t p = pos_;
    if (p >= text_.size() || (text_[p] != 'e' && text_[p] != 'E'))
      return false;
    ++p;
    if (p < text_.size() && (text_[p] == '-' || text_[p] == '+'))
      ++p;
    if (p >= text_.size() || !isDigit(text_[p]))
      return false;
    while (p < text_.size() && isDigit(text_[p]))
      ++p;
    pos_ = p;
    return true;
  }

  static std::string describeInvalid(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7f)
      return std::string("unexpected character `") + c + "`";
    static const char hex[] = "0123456789abcdef";
    return std::string("unexpected byte 0x") + hex[u >> 4] + hex[u & 15] +
           "; a spec is plain ASCII text";
  }

  std::string_view text_;
  DiagnosticEngine &diags_;
  size_t pos_ = 0;
  size_t lineStart_ = 0;
  uint32_t line_ = 1;
};

} // namespace

std::vector<Token> lex(const SourceFile &source, DiagnosticEngine &diags) {
  return Lexer(source, diags).run();
}

} // namespace vidnet::dsl
