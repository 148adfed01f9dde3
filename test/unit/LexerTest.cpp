// Lexer tests: token kinds, texts and columns, comments, line endings, junk.
#include "dsl/Lexer.h"

#include <gtest/gtest.h>

using namespace vidnet::dsl;

namespace {

std::vector<Token> lexText(const std::string &text, size_t *errors = nullptr) {
  static std::vector<std::unique_ptr<SourceFile>> keepAlive;  // tokens point into the text
  keepAlive.push_back(std::make_unique<SourceFile>("t.vnet", text));
  DiagnosticEngine diags(*keepAlive.back());
  auto tokens = lex(*keepAlive.back(), diags);
  if (errors)
    *errors = diags.errorCount();
  return tokens;
}

TEST(Lexer, SignatureLineAsWritten) {
  auto t = lexText("stage conv(2+1)d t=3 d=3 ch=128 x4 stride=2");
  std::vector<std::pair<TokenKind, std::string>> expected = {
      {TokenKind::Word, "stage"},   {TokenKind::Word, "conv(2+1)d"}, {TokenKind::Word, "t"},
      {TokenKind::Equals, "="},     {TokenKind::Integer, "3"},       {TokenKind::Word, "d"},
      {TokenKind::Equals, "="},     {TokenKind::Integer, "3"},       {TokenKind::Word, "ch"},
      {TokenKind::Equals, "="},     {TokenKind::Integer, "128"},     {TokenKind::Word, "x4"},
      {TokenKind::Word, "stride"},  {TokenKind::Equals, "="},        {TokenKind::Integer, "2"},
      {TokenKind::Newline, ""},     {TokenKind::End, ""}};
  ASSERT_EQ(t.size(), expected.size());
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(t[i].kind, expected[i].first) << i;
    EXPECT_EQ(t[i].text, expected[i].second) << i;
  }
  EXPECT_EQ(t[1].loc, (Loc{1, 7}));
  EXPECT_EQ(t[11].loc, (Loc{1, 33}));
}

TEST(Lexer, DimsNegativeFloatArrowAndComments) {
  auto t = lexText("stride=1x2x2 # a comment = 5\nch=-64 mid=0.5 a->b.c");
  EXPECT_EQ(t[2].kind, TokenKind::Dims);
  EXPECT_EQ(t[2].text, "1x2x2");
  EXPECT_EQ(t[3].kind, TokenKind::Newline);  // the comment produced no tokens
  EXPECT_EQ(t[6].kind, TokenKind::Integer);
  EXPECT_EQ(t[6].text, "-64");
  EXPECT_EQ(t[6].loc, (Loc{2, 4}));
  EXPECT_EQ(t[9].kind, TokenKind::Float);
  EXPECT_EQ(t[10].text, "a");
  EXPECT_EQ(t[11].kind, TokenKind::Arrow);
  EXPECT_EQ(t[12].text, "b.c");
}

TEST(Lexer, ExponentsMakeFloatsAndDimsStayDims) {
  auto t = lexText("bn_eps=1e-3 a=2.5E+2 b=1e c=3x3 d=0.5f");
  EXPECT_EQ(t[2].kind, TokenKind::Float);
  EXPECT_EQ(t[2].text, "1e-3");
  EXPECT_EQ(t[5].kind, TokenKind::Float);
  EXPECT_EQ(t[5].text, "2.5E+2");
  EXPECT_EQ(t[8].kind, TokenKind::Dims);  // `1e` has no exponent digits: a malformed number
  EXPECT_EQ(t[11].kind, TokenKind::Dims);
  EXPECT_EQ(t[14].kind, TokenKind::Float);  // the glued `f` stays in the token, to be rejected whole
  EXPECT_EQ(t[14].text, "0.5f");
}

TEST(Lexer, CrlfAndTabsAreWhitespace) {
  auto t = lexText("head\tclasses=4\r\nmodel m\r\n");
  EXPECT_EQ(t[0].text, "head");
  EXPECT_EQ(t[1].loc, (Loc{1, 6}));
  EXPECT_EQ(t[4].kind, TokenKind::Newline);
  EXPECT_EQ(t[5].text, "model");
  EXPECT_EQ(t[5].loc, (Loc{2, 1}));
}

TEST(Lexer, RunOfJunkIsReportedOnce) {
  size_t errors = 0;
  auto t = lexText("\x01\x02\xff\xfe$$$\nmodel m", &errors);
  EXPECT_EQ(errors, 1u);
  EXPECT_EQ(t.back().kind, TokenKind::End);
}

TEST(Lexer, NumberGluedToLettersIsOneToken) {
  auto t = lexText("4x 3d");
  EXPECT_EQ(t[0].kind, TokenKind::Dims);
  EXPECT_EQ(t[0].text, "4x");
  EXPECT_EQ(t[1].text, "3d");
}

} // namespace
