// Parser tests: the AST of real statements, error recovery, nesting limits.
#include "dsl/Parser.h"
#include "TestHelpers.h"

#include <gtest/gtest.h>

using namespace vidnet;
using namespace vidnet::dsl;

namespace {

Spec parseText(const std::string &text, std::string *diagnostics = nullptr) {
  FrontendResult r = test::frontend(text);
  if (diagnostics)
    *diagnostics = test::rendered(r);
  return std::move(r.spec);
}

TEST(Parser, SignatureLineParsesAsWritten) {
  Spec spec = parseText("stage conv(2+1)d t=3 d=3 ch=128 x4 stride=2\n");
  ASSERT_EQ(spec.statements.size(), 1u);
  const Statement &s = spec.statements[0];
  EXPECT_EQ(s.kind, StatementKind::Stage);
  EXPECT_FALSE(s.broken);
  EXPECT_EQ(s.conv, ConvKind::Conv2Plus1d);
  EXPECT_EQ(s.convLoc, (Loc{1, 7}));
  EXPECT_EQ(s.repeat, 4);
  EXPECT_EQ(s.repeatLoc, (Loc{1, 33}));
  ASSERT_EQ(s.options.size(), 4u);
  const char *names[] = {"t", "d", "ch", "stride"};
  int64_t values[] = {3, 3, 128, 2};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(s.options[i].name, names[i]);
    EXPECT_EQ(s.options[i].value.form, Value::Form::Integer);
    EXPECT_EQ(s.options[i].value.ints[0], values[i]);
  }
  EXPECT_EQ(s.option("ch")->loc, (Loc{1, 26}));
  EXPECT_EQ(s.option("ch")->value.loc, (Loc{1, 29}));
}

TEST(Parser, ValueForms) {
  Spec spec = parseText("input flow c=2 l=16 h=112 w=112\n"
                        "stem conv(2+1)d t=3 d=7 ch=64 mid=45 stride=1x2x2 fold=time\n"
                        "stage conv(2+1)d t=3 d=3 ch=128 x2 mid=230,288\n");
  ASSERT_EQ(spec.statements.size(), 3u);
  EXPECT_EQ(spec.statements[0].name, "flow");
  EXPECT_EQ(spec.statements[0].options.size(), 4u);
  const Option *stride = spec.statements[1].option("stride");
  ASSERT_NE(stride, nullptr);
  EXPECT_EQ(stride->value.form, Value::Form::Dims);
  EXPECT_EQ(stride->value.ints, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(spec.statements[1].option("fold")->value.word, "time");
  const Option *mid = spec.statements[2].option("mid");
  EXPECT_EQ(mid->value.form, Value::Form::List);
  EXPECT_EQ(mid->value.ints, (std::vector<int64_t>{230, 288}));
}

TEST(Parser, PoolStatementAndModelOptions) {
  std::string diagnostics;
  Spec spec = parseText("model csn bn_eps=1e-3\npool max k=1x3x3 stride=1x2x2 pad=0x1x1\n", &diagnostics);
  // Only elaboration's complaints about the statements this fragment lacks.
  size_t errors = 0;
  for (size_t at = diagnostics.find("error:"); at != std::string::npos; at = diagnostics.find("error:", at + 1))
    ++errors;
  EXPECT_EQ(errors, 3u) << diagnostics;
  EXPECT_EQ(diagnostics.find("test.vnet:2:"), std::string::npos) << diagnostics;
  ASSERT_EQ(spec.statements.size(), 2u);
  const Statement &model = spec.statements[0];
  ASSERT_NE(model.option("bn_eps"), nullptr);
  EXPECT_EQ(model.option("bn_eps")->value.form, Value::Form::Number);
  EXPECT_DOUBLE_EQ(model.option("bn_eps")->value.number, 1e-3);
  const Statement &pool = spec.statements[1];
  EXPECT_EQ(pool.kind, StatementKind::Pool);
  EXPECT_EQ(pool.name, "max");
  EXPECT_EQ(pool.nameLoc, (Loc{2, 6}));
  ASSERT_EQ(pool.options.size(), 3u);
  EXPECT_EQ(pool.option("pad")->value.ints, (std::vector<int64_t>{0, 1, 1}));
}

TEST(Parser, MalformedFloatIsNamed) {
  std::string diagnostics;
  parseText("model csn bn_eps=0.5f\n", &diagnostics);
  EXPECT_NE(diagnostics.find("malformed number `0.5f`"), std::string::npos) << diagnostics;
}

TEST(Parser, RecoversAndReportsEveryErrorLine) {
  std::string out;
  Spec spec = parseText("model m\n"
                        "inptu clip c=3\n"                        // unknown statement
                        "stem conv3d t=3 d=7 ch=64 strid=2\n"     // unknown option
                        "stage conv(1+2)d t=3 d=3 ch=64 x2\n"     // unknown conv kind
                        "stage conv3d t=3 d=3 ch=64 x2 ch=65\n"   // duplicate option
                        "head classes=10\n",
                        &out);
  EXPECT_NE(out.find("test.vnet:2:1: error: unknown statement `inptu`; did you mean `input`? "
                     "[UnknownStatement]"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("test.vnet:3:27: error: unknown option `strid` for `stem`; did you mean "
                     "`stride`? [UnknownOption]"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("test.vnet:4:7: error: unknown convolution kind `conv(1+2)d`; did you mean "
                     "`conv(2+1)d`? [UnknownConvKind]"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("test.vnet:5:31: error: option `ch` given twice [DuplicateOption]"),
            std::string::npos)
      << out;
  // The last, valid line was still parsed.
  EXPECT_EQ(spec.statements.back().kind, StatementKind::Head);
}

TEST(Parser, DeepNestingIsReportedNotRecursed) {
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text += "stream s {\n";
  std::string out;
  parseText(text, &out);
  EXPECT_NE(out.find("[NestingTooDeep]"), std::string::npos);
}

TEST(Parser, StreamsAndConnectionsParse) {
  Spec spec = parseText("stream rgb {\n  stage conv3d t=3 d=3 ch=64 x2\n}\n"
                        "connect flow.layer2 -> rgb.layer2 mode=mul\n");
  ASSERT_EQ(spec.statements.size(), 2u);
  EXPECT_EQ(spec.statements[0].kind, StatementKind::Stream);
  ASSERT_EQ(spec.statements[0].body.size(), 1u);
  EXPECT_EQ(spec.statements[0].body[0].repeat, 2);
  EXPECT_EQ(spec.statements[1].from, "flow.layer2");
  EXPECT_EQ(spec.statements[1].to, "rgb.layer2");
}

TEST(Parser, ErrorFloodIsCapped) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "bogus\n";
  FrontendResult r = test::frontend(text);
  std::string out = test::rendered(r);
  EXPECT_EQ(r.diags->errorCount(), 1000u + 3u);  // every bogus line, and 3 missing statements
  EXPECT_NE(out.find("983 more errors not shown"), std::string::npos) << out.substr(0, 300);
}

} // namespace
