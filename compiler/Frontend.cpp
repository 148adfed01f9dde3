// Wires SourceFile, parser and elaboration together with one diagnostic engine.
#include "compiler/Frontend.h"

#include "dsl/Parser.h"

namespace vidnet {

namespace {

FrontendResult run(std::unique_ptr<dsl::SourceFile> source, const ElaborateOptions &options,
                   FrontendStage until) {
  FrontendResult r;
  r.source = std::move(source);
  r.diags = std::make_unique<dsl::DiagnosticEngine>(*r.source);
  r.spec = dsl::parse(*r.source, *r.diags);
  if (until == FrontendStage::Elaborate)
    r.graph = elaborate(r.spec, options, *r.diags);
  return r;
}

} // namespace

FrontendResult runFrontend(const std::string &path, const ElaborateOptions &options,
                           FrontendStage until) {
  auto source = std::make_unique<dsl::SourceFile>(path, "");
  std::string error;
  if (!dsl::SourceFile::load(path, *source, error)) {
    FrontendResult r;
    r.source = std::move(source);
    r.diags = std::make_unique<dsl::DiagnosticEngine>(*r.source);
    r.diags->error({}, dsl::DiagKind::FileError, "cannot read spec: " + error);
    return r;
  }
  return run(std::move(source), options, until);
}

FrontendResult runFrontendOnText(const std::string &path, std::string text,
                                 const ElaborateOptions &options, FrontendStage until) {
  return run(std::make_unique<dsl::SourceFile>(path, std::move(text)), options, until);
}

} // namespace vidnet
