// libFuzzer target for the whole front end: lex, parse, elaborate, and print every output
// form. Any crash, sanitizer report, hang or leak on any input is a bug.
#include "compiler/Frontend.h"
#include "compiler/GraphReport.h"

#include <cstddef>
#include <cstdint>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  vidnet::FrontendResult r = vidnet::runFrontendOnText("fuzz.vnet", std::move(text), {});
  std::ostringstream sink;
  r.diags->render(sink);
  vidnet::dsl::printAST(r.spec, sink);
  if (r.graph) {
    vidnet::printInfoTable(*r.graph, sink);
    sink << vidnet::graphToJson(*r.graph).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
