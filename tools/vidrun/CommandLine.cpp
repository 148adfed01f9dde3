// vidrun's shared option parser, the --device check, the median of timed runs and the
// synthetic batch.
#include "tools/vidrun/CommandLine.h"

#include "runtime/core/Random.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vidnet {

bool integerIn(const std::string &text, int64_t low, int64_t high, int64_t &out) {
  const char *end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && out >= low && out <= high;
}

std::string parseCommand(int argc, char **argv, int first, const std::string &command,
                         const std::vector<Option> &options, ParsedCommand &out) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &dst) {
      if (i + 1 >= argc || argv[i + 1][0] == '\0')
        return false;
      dst = argv[++i];
      return true;
    };
    if (arg == "--config") {
      if (!value(out.configPath))
        return "--config takes a JSON file of settings (see configs/)";
      continue;
    }
    if (arg == "--set") {
      std::string kv;
      size_t eq;
      if (!value(kv) || (eq = kv.find('=')) == std::string::npos || eq == 0)
        return "--set takes KEY=VALUE, e.g. --set base_lr=0.1";
      out.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      continue;
    }
    const Option *match = nullptr;
    for (const Option &o : options)
      if (arg == o.name)
        match = &o;
    if (match && match->flag) {
      *match->flag = true;
    } else if (match) {
      if (!value(*match->value))
        return match->takes;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return "unknown option '" + arg + "' for " + command;
    } else {
      out.positional.push_back(arg);
    }
  }
  return "";
}

std::string oneBundle(const ParsedCommand &parsed) {
  if (parsed.positional.empty())
    return "no bundle given";
  if (parsed.positional.size() > 1)
    return "unexpected argument '" + parsed.positional[1] + "'";
  return "";
}

bool buildSettings(const ParsedCommand &parsed, train::TrainConfig &out, std::string &error, bool &usageProblem) {
  usageProblem = false;
  train::TrainConfig c;
  if (!parsed.configPath.empty() && !train::loadTrainConfig(parsed.configPath, c, error))
    return false;
  for (const auto &[key, text] : parsed.overrides)
    if (!train::applyOverride(c, key, text, error)) {
      error = "--set " + key + "=" + text + ": " + error;
      usageProblem = true;
      return false;
    }
  if (!train::validateTrainConfig(c, error))
    return false;
  out = std::move(c);
  return true;
}

std::string deviceMismatch(const std::string &bundleDir, const std::string &device, bool &usageProblem) {
  usageProblem = false;
  if (device.empty())
    return "";
  if (device != "cpu" && device != "cuda") {
    usageProblem = true;
    return "--device takes cpu or cuda";
  }
  std::ifstream in(bundleDir + "/manifest.json");
  nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("target") ||
      !manifest["target"].is_object())
    return "";  // opening the bundle says what is wrong with it
  std::string kind = manifest["target"].value("kind", "");
  if (kind == device)
    return "";
  if (device == "cuda")
    return "--device cuda: " + bundleDir + " was compiled for the CPU; build a GPU bundle with vidc build --target "
           "cuda:sm_90 (or sm_80)";
  return "--device cpu: " + bundleDir + " was compiled for " + manifest["target"].value("arch", kind) +
         "; build a CPU bundle with vidc build (no --target)";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<float> syntheticClips(const rt::Manifest &m, int64_t n) {
  std::vector<float> clips(static_cast<size_t>(n * m.channels * m.frames * m.height * m.width));
  rt::Random random(1);
  for (float &v : clips)
    v = static_cast<float>(random.normal(0, 1));
  return clips;
}

std::vector<int64_t> syntheticLabels(const rt::Manifest &m, int64_t n) {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i)
    labels.push_back(i % m.classes);
  return labels;
}

} // namespace vidnet
