// Splits spec text into tokens. Line-oriented: newlines are tokens, `#` starts a comment.
#pragma once

#include "dsl/Diagnostics.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace vidnet::dsl {

enum class TokenKind {
  Word,     // keyword, name, conv kind (`conv(2+1)d`), repeat (`x4`), reference (`rgb.layer2`)
  Integer,  // 64, -1
  Dims,     // 1x2x2, 3x16x112x112: integers joined by `x`
  Float,    // 0.5, 1e-3: the value of a real-valued option such as `bn_eps`
  Equals,
  Comma,
  LBrace,
  RBrace,
  Arrow,    // ->
  Newline,
  Invalid,  // a byte no token starts with; the lexer has reported it
  End,
};

std::string_view tokenKindName(TokenKind kind);

struct Token {
  TokenKind kind;
  std::string_view text;  // points into the SourceFile
  Loc loc;
};

// Lexes the whole file. Reports InvalidCharacter for bytes outside the grammar (runs of them
// are reported once) and always ends the list with a Newline and an End token.
std::vector<Token> lex(const SourceFile &source, DiagnosticEngine &diags);

} // namespace vidnet::dsl
