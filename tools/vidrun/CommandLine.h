// Option parsing shared by vidrun's commands: named options, --set KEY=VALUE, positionals,
// and the settings (TrainConfig) they build; the median of timed runs and the synthetic batch
// that bench and profile time.
#pragma once

#include "runtime/core/Manifest.h"
#include "runtime/train/TrainConfig.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vidnet {

struct Option {
  const char *name;      // "--weights"
  std::string *value;    // receives the argument; null for a flag
  const char *takes;     // for the usage message: "--weights takes a .safetensors file"
  bool *flag = nullptr;  // set when a flag is present
};

struct ParsedCommand {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> overrides;  // --set KEY=VALUE, in order
  std::string configPath;                                      // --config
};

// argv[first..]: every option in `options`, plus --config FILE and --set KEY=VALUE. Returns ""
// or the usage problem ("unknown option '--x' for eval").
std::string parseCommand(int argc, char **argv, int first, const std::string &command,
                         const std::vector<Option> &options, ParsedCommand &out);

// A whole decimal integer in [low, high] (no sign, spaces or suffix); `out` is set when the text is an integer.
bool integerIn(const std::string &text, int64_t low, int64_t high, int64_t &out);

// "" when the command line names exactly one positional argument, the bundle; else the
// usage problem ("no bundle given", "unexpected argument 'x'").
std::string oneBundle(const ParsedCommand &parsed);

// --device cpu|cuda against the bundle's target (manifest.json target.kind): "" when they
// agree or no device was asked for; else the usage problem (a word other than cpu or cuda,
// marked by `usageProblem`) or why this bundle cannot run there.
std::string deviceMismatch(const std::string &bundleDir, const std::string &device, bool &usageProblem);

// Defaults, then --config, then every --set, then the cross-setting checks. `usageProblem`
// says whether a failure is the command line's (a bad --set) or the file's.
bool buildSettings(const ParsedCommand &parsed, train::TrainConfig &out, std::string &error, bool &usageProblem);

// The median of timed runs (at least one).
double median(std::vector<double> v);

// `n` clips of the bundle's shape, N(0, 1) values from seed 1, and labels 0, 1, 2, ... (mod the
// classes): what vidrun bench and vidrun profile time when given no data (timing does not
// depend on the values).
std::vector<float> syntheticClips(const rt::Manifest &m, int64_t n);
std::vector<int64_t> syntheticLabels(const rt::Manifest &m, int64_t n);

} // namespace vidnet
