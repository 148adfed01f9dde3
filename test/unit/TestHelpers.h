// Shared helpers for the unit tests: run the front end on inline spec text.
#pragma once

#include "compiler/Frontend.h"

#include <sstream>
#include <string>

namespace vidnet::test {

inline FrontendResult frontend(const std::string &text, const ElaborateOptions &options = {}) {
  return runFrontendOnText("test.vnet", text, options);
}

inline std::string rendered(const FrontendResult &r) {
  std::ostringstream os;
  r.diags->render(os);
  return os.str();
}

// A valid spec with one configurable stage line, for elaboration tests.
inline std::string specWithStage(const std::string &stage, const std::string &stem =
                                     "stem conv3d t=3 d=7 ch=64 stride=1x2x2") {
  return "model m\ninput clip c=3 l=16 h=112 w=112\n" + stem + "\n" + stage + "\nhead classes=10\n";
}

} // namespace vidnet::test
