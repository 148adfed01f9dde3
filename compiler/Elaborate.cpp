// AST -> ModelGraph: each statement's options checked on their own (phase 1), the order of
// statements, then ElaborateStages.cpp's layers (phase 2).
#include "compiler/Elaborate.h"
#include "compiler/ElaborateStages.h"

#include "common/OpArithmetic.h"
#include "dsl/Parser.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <tuple>

namespace vidnet {

using dsl::ConvKind;
using dsl::DiagKind;
using dsl::Loc;
using dsl::Option;
using dsl::Statement;
using dsl::StatementKind;
using dsl::Value;
using elab::BlockKind;
using elab::BodyItem;
using elab::ConvStatement;
using elab::PoolStatement;

namespace {

// ---- Phase 1: each statement on its own ----

class StatementChecker {
public:
  explicit StatementChecker(dsl::DiagnosticEngine &diags) : diags_(diags) {}

  std::optional<int64_t> positive(const Option &o, bool allowZero = false) {
    if (o.value.form == Value::Form::Number) {
      diags_.error(o.value.loc, DiagKind::InvalidValue,
                   "expected an integer for `" + o.name + "`, got " + describe(o.value));
      return std::nullopt;
    }
    if (o.value.form != Value::Form::Integer) {
      diags_.error(o.value.loc, DiagKind::InvalidValue,
                   "`" + o.name + "` takes one integer, got " + describe(o.value));
      return std::nullopt;
    }
    int64_t v = o.value.ints[0];
    if (v < 0 || (v == 0 && !allowZero)) {
      diags_.error(o.value.loc, DiagKind::NonPositiveSize,
                   "`" + o.name + "` must be " + (allowZero ? "at least 0" : "positive") +
                       ", got " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  // stride / pad: one integer (expanded by the conv kind) or TxHxW.
  std::optional<Dims3> triple(const Option &o, ConvKind kind, bool allowZero) {
    const Value &v = o.value;
    if (v.form == Value::Form::Number) {
      diags_.error(v.loc, DiagKind::InvalidValue, "expected an integer for `" + o.name + "`, got " + describe(v));
      return std::nullopt;
    }
    if (v.form == Value::Form::Integer) {
      std::optional<int64_t> n = positive(o, allowZero);
      if (!n)
        return std::nullopt;
      // The paper: when 3D convolutions become 2D, downsampling becomes only spatial.
      int64_t t = kind == ConvKind::Conv2d ? (o.name == "stride" ? 1 : 0) : *n;
      return Dims3{t, *n, *n};
    }
    if (v.form != Value::Form::Dims || v.ints.size() != 3) {
      diags_.error(v.loc, DiagKind::InvalidValue,
                   "`" + o.name + "` takes an integer or TxHxW such as `1x2x2`, got " + describe(v));
      return std::nullopt;
    }
    for (int64_t n : v.ints)
      if (n < 0 || (n == 0 && !allowZero)) {
        diags_.error(v.loc, DiagKind::NonPositiveSize,
                     "every part of `" + o.name + "` must be " +
                         (allowZero ? "at least 0" : "positive") + ", got " + describe(v));
        return std::nullopt;
      }
    return Dims3{v.ints[0], v.ints[1], v.ints[2]};
  }

  std::optional<ConvStatement> conv(const Statement &s) {
    ConvStatement c;
    c.stmt = &s;
    c.kind = s.conv;
    c.blocks = s.repeat;
    bool ok = true;
    std::string kindName(dsl::convKindName(s.conv));
    if (s.kind == StatementKind::Stage && s.repeat <= 0) {
      diags_.error(s.repeatLoc, DiagKind::NonPositiveSize,
                   "a stage needs at least one block, got x" + std::to_string(s.repeat));
      ok = false;
    }
    auto require = [&](std::string_view name, const char *why) -> const Option * {
      const Option *o = s.option(name);
      if (!o) {
        diags_.error(s.convLoc, DiagKind::MissingOption,
                     kindName + " needs `" + std::string(name) + "=` (" + why + ")");
        ok = false;
      }
      return o;
    };
    if (const Option *o = require("ch", "output channels")) {
      auto v = positive(*o);
      ok &= v.has_value();
      c.ch = v.value_or(0);
    }
    if (const Option *o = require("d", "spatial kernel size, e.g. d=3")) {
      auto v = positive(*o);
      ok &= v.has_value();
      c.d = v.value_or(1);
    }
    if (s.conv == ConvKind::Conv2d) {
      if (const Option *o = s.option("t")) {
        diags_.error(o->loc, DiagKind::InapplicableOption,
                     "conv2d has no temporal extent; drop `t=` or use conv3d or conv(2+1)d");
        ok = false;
      }
    } else if (const Option *o = require("t", "temporal kernel size, e.g. t=3")) {
      auto v = positive(*o);
      ok &= v.has_value();
      c.t = v.value_or(1);
    }
    c.pad = Dims3{c.t / 2, c.d / 2, c.d / 2};
    c.stride = Dims3{1, 1, 1};
    if (const Option *o = s.option("stride")) {
      auto v = triple(*o, s.conv, false);
      ok &= v.has_value();
      c.stride = v.value_or(c.stride);
    }
    if (const Option *o = s.option("pad")) {
      auto v = triple(*o, s.conv, true);
      ok &= v.has_value();
      c.pad = v.value_or(c.pad);
    }
    if (const Option *o = s.option("mid"))
      ok &= checkMid(s, *o, c);
    if (const Option *o = s.option("fold")) {
      if (o->value.form != Value::Form::Word || o->value.word != "time") {
        diags_.error(o->value.loc, DiagKind::InvalidValue,
                     "`fold` takes `time` (fold the frames into channels), got " + describe(o->value));
        ok = false;
      } else if (s.conv != ConvKind::Conv2d) {
        diags_.error(o->loc, DiagKind::InvalidFold,
                     "`fold=time` needs a conv2d stem: after folding there is no time axis for a " +
                         kindName + " to convolve");
        ok = false;
      } else {
        c.fold = true;
      }
    }
    if (const Option *o = s.option("block")) {
      std::optional<BlockKind> block = checkBlock(*o);
      ok &= block.has_value();
      c.block = block.value_or(BlockKind::Basic);
      if (block && (*block == BlockKind::IrCsn || *block == BlockKind::IpCsn) && s.conv == ConvKind::Conv2Plus1d) {
        diags_.error(o->value.loc, DiagKind::InapplicableOption,
                     "`block=" + o->value.word + "` makes the middle conv depthwise, which needs conv3d or "
                     "conv2d, not conv(2+1)d");
        ok = false;
      }
      if (block && isP3d(*block) && s.conv != ConvKind::Conv3d) {
        diags_.error(o->value.loc, DiagKind::InapplicableOption,
                     "`block=" + o->value.word + "` splits a conv3d's t x d x d into 1 x d x d and t x 1 x 1; "
                     "write the stage as conv3d, not " + kindName);
        ok = false;
      }
    }
    if (const Option *o = s.option("groups"))
      ok &= checkGroups(s, *o, c);
    return ok ? std::optional<ConvStatement>(c) : std::nullopt;
  }

  // pool max k=TxHxW [stride=TxHxW] [pad=TxHxW]: stride defaults to the kernel, pad to 0.
  std::optional<PoolStatement> pool(const Statement &s) {
    PoolStatement p;
    p.stmt = &s;
    const Option *k = s.option("k");
    if (!k) {
      diags_.error(s.loc, DiagKind::MissingOption,
                   "`pool max` needs `k=` (the window, e.g. `pool max k=1x3x3 stride=1x2x2 pad=0x1x1`)");
      return std::nullopt;
    }
    std::optional<Dims3> kernel = triple(*k, ConvKind::Conv3d, false);
    if (!kernel)
      return std::nullopt;
    p.kernel = p.stride = *kernel;
    p.pad = Dims3{0, 0, 0};
    for (auto [name, field, allowZero] : {std::tuple{"stride", &p.stride, false}, {"pad", &p.pad, true}})
      if (const Option *o = s.option(name)) {
        std::optional<Dims3> v = triple(*o, ConvKind::Conv3d, allowZero);
        if (!v)
          return std::nullopt;
        *field = *v;
      }
    if (2 * p.pad.t > p.kernel.t || 2 * p.pad.h > p.kernel.h || 2 * p.pad.w > p.kernel.w) {
      const Option *o = s.option("pad");
      diags_.error(o->value.loc, DiagKind::InvalidPool,
                   "`pad` " + toString(p.pad) + " exceeds half of the window " + toString(p.kernel) +
                       " (PyTorch's rule for max pooling: pad <= k / 2 on every axis)");
      return std::nullopt;
    }
    return p;
  }

  // model NAME [bn_eps=E]: the epsilon of every batch norm (PyTorch's 1e-5 unless given).
  std::optional<float> bnEpsilon(const Statement &s) {
    const Option *o = s.option("bn_eps");
    if (!o)
      return kBatchNormEpsilon;
    const Value &v = o->value;
    if (v.form != Value::Form::Number && v.form != Value::Form::Integer) {
      diags_.error(v.loc, DiagKind::InvalidValue, "`bn_eps` takes a number such as `1e-3`, got " + describe(v));
      return std::nullopt;
    }
    double eps = v.form == Value::Form::Number ? v.number : static_cast<double>(v.ints[0]);
    if (!(eps > 0) || eps > 1) {
      diags_.error(v.loc, DiagKind::NonPositiveSize,
                   "`bn_eps` must be above 0 and at most 1, got " + describe(v));
      return std::nullopt;
    }
    return static_cast<float>(eps);
  }

  std::optional<Shape> input(const Statement &s) {
    Shape shape;
    bool ok = true;
    for (auto [name, field] : {std::pair{"c", &shape.c}, {"l", &shape.l}, {"h", &shape.h},
                               {"w", &shape.w}}) {
      const Option *o = s.option(name);
      if (!o) {
        diags_.error(s.loc, DiagKind::MissingOption,
                     std::string("`input` needs `") + name + "=` (the clip is c x l x h x w, e.g. "
                     "`input clip c=3 l=16 h=112 w=112`)");
        ok = false;
        continue;
      }
      auto v = positive(*o);
      ok &= v.has_value();
      *field = v.value_or(0);
    }
    return ok ? std::optional<Shape>(shape) : std::nullopt;
  }

  std::optional<int64_t> head(const Statement &s) {
    const Option *o = s.option("classes");
    if (!o) {
      diags_.error(s.loc, DiagKind::MissingOption, "`head` needs `classes=` (e.g. `head classes=400`)");
      return std::nullopt;
    }
    return positive(*o);
  }

private:
  static std::string describe(const Value &v) { return "`" + dsl::valueText(v, 8, 40) + "`"; }

  bool checkMid(const Statement &s, const Option &o, ConvStatement &c) {
    if (s.conv != ConvKind::Conv2Plus1d) {
      diags_.error(o.loc, DiagKind::MidNotTwoPlusOne,
                   "`mid=` sets the spatial filters M_i of a conv(2+1)d, but this is a " +
                       std::string(dsl::convKindName(s.conv)));
      return false;
    }
    const Value &v = o.value;
    size_t perBlock = static_cast<size_t>(std::max<int64_t>(s.repeat, 0));
    bool listOk = v.form == Value::Form::Integer ||
                  (s.kind == StatementKind::Stage && v.form == Value::Form::List &&
                   (v.ints.size() == perBlock || v.ints.size() == 2 * perBlock));
    if (!listOk) {
      std::string expected = s.kind == StatementKind::Stem
                                 ? "one integer"
                                 : "one integer, one per block (" + std::to_string(perBlock) +
                                       ") or one per conv (" + std::to_string(2 * perBlock) + ")";
      diags_.error(v.loc, DiagKind::InvalidValue,
                   "`mid` takes " + expected + ", got " + describe(v));
      return false;
    }
    for (int64_t m : v.ints)
      if (m <= 0) {
        diags_.error(v.loc, DiagKind::NonPositiveSize,
                     "`mid` must be positive, got " + std::to_string(m));
        return false;
      }
    c.mid = v.ints;
    return true;
  }

  static bool isP3d(BlockKind k) {
    return k == BlockKind::P3dA || k == BlockKind::P3dB || k == BlockKind::P3dC || k == BlockKind::P3dCycle;
  }

  std::optional<BlockKind> checkBlock(const Option &o) {
    static const std::vector<std::pair<std::string_view, BlockKind>> kinds = {
        {"basic", BlockKind::Basic}, {"bottleneck", BlockKind::Bottleneck}, {"ir-csn", BlockKind::IrCsn},
        {"ip-csn", BlockKind::IpCsn},  {"p3d-a", BlockKind::P3dA},             {"p3d-b", BlockKind::P3dB},
        {"p3d-c", BlockKind::P3dC},    {"p3d", BlockKind::P3dCycle}};
    static const std::vector<std::string_view> all = {"basic", "bottleneck", "p3d-a",  "p3d-b",
                                                      "p3d-c", "p3d",        "ip-csn", "ir-csn"};
    if (o.value.form != Value::Form::Word ||
        std::find(all.begin(), all.end(), o.value.word) == all.end()) {
      diags_.error(o.value.loc, DiagKind::InvalidValue,
                   "unknown block " + describe(o.value) +
                       " (expected basic, bottleneck, p3d-a, p3d-b, p3d-c, p3d, ip-csn or ir-csn)" +
                       (o.value.form == Value::Form::Word ? dsl::didYouMean(o.value.word, all) : ""));
      return std::nullopt;
    }
    for (auto [name, kind] : kinds)
      if (o.value.word == name)
        return kind;
    return std::nullopt;
  }

  // groups=G: every conv of a basic block, the middle conv of a bottleneck. Whether G divides
  // the channels is checked per layer, where the channel counts are known.
  bool checkGroups(const Statement &s, const Option &o, ConvStatement &c) {
    std::optional<int64_t> v = positive(o);
    if (!v)
      return false;
    c.groups = *v;
    if (*v == 1)
      return true;
    if (s.conv == ConvKind::Conv2Plus1d) {
      diags_.error(o.loc, DiagKind::InapplicableOption,
                   "`groups=` needs conv3d or conv2d; a conv(2+1)d's two convs are not grouped");
      return false;
    }
    if (c.block == BlockKind::IrCsn || c.block == BlockKind::IpCsn) {
      diags_.error(o.loc, DiagKind::InapplicableOption,
                   "a CSN block's middle conv is depthwise (groups = ch); drop `groups=`");
      return false;
    }
    if (isP3d(c.block)) {
      diags_.error(o.loc, DiagKind::InapplicableOption, "P3D blocks have no grouped convs; drop `groups=`");
      return false;
    }
    return true;
  }

  dsl::DiagnosticEngine &diags_;
};

} // namespace

std::optional<ModelGraph> elaborate(const dsl::Spec &spec, const ElaborateOptions &options,
                                    dsl::DiagnosticEngine &diags) {
  StatementChecker check(diags);
  const Statement *seen[5] = {};  // model, input, stem, (stages), head
  std::optional<Shape> input;
  std::optional<int64_t> classes;
  std::optional<ConvStatement> stem;
  std::vector<BodyItem> body;
  bool stagesOk = true;
  std::string modelName;
  std::optional<float> bnEpsilon = kBatchNormEpsilon;

  // Statements must come in this order; `rank` is the position a keyword may appear at.
  auto rank = [](StatementKind k) {
    switch (k) {
    case StatementKind::Model: return 0;
    case StatementKind::Input: return 1;
    case StatementKind::Stem: return 2;
    case StatementKind::Stage:
    case StatementKind::Pool: return 3;
    case StatementKind::Head: return 4;
    default: return -1;
    }
  };
  int highest = -1;
  const Statement *highestStmt = nullptr;
  // One OutOfOrder per statement that others wrongly follow: a `head` on line 1 is one
  // mistake, not one per later statement.
  const Statement *reportedAfter = nullptr;
  bool hasStreams = false;

  for (const Statement &s : spec.statements) {
    std::string keyword(dsl::statementKeyword(s.kind));
    if (s.kind == StatementKind::Stream || s.kind == StatementKind::Connect) {
      hasStreams = true;
      if (s.broken)
        continue;
      diags.error(s.loc, DiagKind::NotImplemented,
                  s.kind == StatementKind::Stream
                      ? "two-stream models (`stream`) are reserved in the grammar and not implemented yet"
                      : "connections between streams (`connect`) are reserved in the grammar and not "
                        "implemented yet");
      continue;
    }
    int r = rank(s.kind);
    if (r != 3) {
      if (const Statement *prev = seen[r]) {
        diags.error(s.loc, DiagKind::DuplicateStatement, "`" + keyword + "` given twice");
        diags.note(prev->loc, "first given here");
        continue;
      }
      seen[r] = &s;
    }
    if (r < highest && reportedAfter != highestStmt) {
      reportedAfter = highestStmt;
      diags.error(s.loc, DiagKind::OutOfOrder,
                  "`" + keyword + "` after `" + std::string(dsl::statementKeyword(highestStmt->kind)) +
                      "`; a spec reads model, input, stem, stages and pools, head");
    } else if (r > highest) {
      highest = r;
      highestStmt = &s;
    }
    if (s.broken) {
      stagesOk &= s.kind != StatementKind::Stage && s.kind != StatementKind::Pool;
      continue;
    }
    switch (s.kind) {
    case StatementKind::Model:
      modelName = s.name;
      bnEpsilon = check.bnEpsilon(s);
      break;
    case StatementKind::Input: input = check.input(s); break;
    case StatementKind::Head: classes = check.head(s); break;
    case StatementKind::Stem:
      stem = check.conv(s);
      break;
    case StatementKind::Stage: {
      std::optional<ConvStatement> c = check.conv(s);
      stagesOk &= c.has_value();
      if (c)
        body.push_back(BodyItem{c, std::nullopt});
      break;
    }
    case StatementKind::Pool: {
      std::optional<PoolStatement> p = check.pool(s);
      stagesOk &= p.has_value();
      if (p)
        body.push_back(BodyItem{std::nullopt, p});
      break;
    }
    default: break;
    }
  }
  Loc top{1, 1};
  // A two-stream spec declares its inputs and stems inside the streams; it has been reported
  // as not implemented already, and "missing" errors would only be noise.
  if (hasStreams)
    return std::nullopt;
  if (!seen[1])
    diags.error(top, DiagKind::MissingStatement,
                "the spec has no `input` statement (e.g. `input clip c=3 l=16 h=112 w=112`)");
  if (!seen[2])
    diags.error(top, DiagKind::MissingStatement,
                "the spec has no `stem` statement (e.g. `stem conv3d t=3 d=7 ch=64 stride=1x2x2`)");
  if (!seen[4])
    diags.error(top, DiagKind::MissingStatement,
                "the spec has no `head` statement (e.g. `head classes=400`)");
  if (diags.hasErrors() || !input || !classes || !stem || !stagesOk || !bnEpsilon)
    return std::nullopt;

  ModelGraph graph;
  graph.name = !modelName.empty() ? modelName : std::filesystem::path(spec.path).stem().string();
  graph.specPath = spec.path;
  graph.input = options.input.value_or(*input);
  graph.classes = options.classes.value_or(*classes);
  graph.bnEpsilon = *bnEpsilon;
  if (!elab::buildGraph(graph, seen[4]->loc, *stem, body, diags))
    return std::nullopt;
  return graph;
}

} // namespace vidnet
