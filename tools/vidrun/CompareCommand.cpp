// `vidrun compare`: relative errors between two .npy arrays or two safetensors files (per tensor; with --base, of
// the updates since a common starting point too), as one JSON line; with --tolerance, exit 1 when one is larger.
#include "runtime/io/Npy.h"
#include "runtime/io/Safetensors.h"
#include "runtime/io/ShapeText.h"
#include "tools/vidrun/CommandLine.h"
#include "tools/vidrun/VideoCommands.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

namespace vidnet {

namespace {

using Values = std::vector<double>;

constexpr double kNegligibleUpdate = 1e-6;

// A named tensor's values as doubles, whatever its float or integer dtype.
bool toDoubles(const std::string &dtype, const std::vector<char> &bytes, Values &out) {
  auto convert = [&]<typename T>(T) {
    out.resize(bytes.size() / sizeof(T));
    for (size_t i = 0; i < out.size(); ++i) {
      T v;
      std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
      out[i] = static_cast<double>(v);
    }
    return true;
  };
  if (dtype == "F32" || dtype == "<f4")
    return convert(float{});
  if (dtype == "F64" || dtype == "<f8")
    return convert(double{});
  if (dtype == "I64" || dtype == "<i8")
    return convert(int64_t{});
  if (dtype == "I32" || dtype == "<i4")
    return convert(int32_t{});
  return false;
}

struct Named {
  std::vector<int64_t> shape;
  Values values;
};

bool load(const std::string &path, std::map<std::string, Named> &out, std::string &error) {
  if (path.ends_with(".npy")) {
    rt::NpyArray a;
    if (!rt::readNpy(path, a, error))
      return false;
    Named &n = out[""];
    n.shape = a.shape;
    if (!toDoubles(a.dtype, a.data, n.values)) {
      error = path + ": dtype " + a.dtype + " is not a float or integer type compare reads";
      return false;
    }
    return true;
  }
  rt::SafetensorsFile f;
  if (!rt::readSafetensors(path, f, error))
    return false;
  for (auto &[name, t] : f.tensors) {
    Named &n = out[name];
    n.shape = t.shape;
    if (!toDoubles(t.dtype, t.data, n.values)) {
      error = path + ": " + name + ": dtype " + t.dtype + " is not a float or integer type compare reads";
      return false;
    }
  }
  return true;
}

// max |a - b| / max |b|: the error relative to the expected tensor's scale, so that values near zero inside a
// tensor do not dominate it; the absolute difference when the expected tensor is all zeros.
double relativeError(const Values &actual, const Values &expected, const Values *base) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    double e = base ? expected[i] - (*base)[i] : expected[i];
    double a = base ? actual[i] - (*base)[i] : actual[i];
    diff = std::max(diff, std::abs(a - e));
    scale = std::max(scale, std::abs(e));
  }
  return scale == 0 ? diff : diff / scale;  // an all-zero expected tensor: the absolute difference
}

} // namespace

int compareCommand(int argc, char **argv, Usage usage, Fail fail) {
  std::string basePath, toleranceText;
  ParsedCommand parsed;
  std::string problem =
      parseCommand(argc, argv, 2, "compare",
                   {{"--base", &basePath, "--base takes the safetensors both were updated from"},
                    {"--tolerance", &toleranceText, "--tolerance takes a positive number"}},
                   parsed);
  if (problem.empty() && parsed.positional.size() != 2)
    problem = "compare takes two files: ACTUAL EXPECTED (.npy or .safetensors)";
  std::optional<double> tolerance;
  if (problem.empty() && !toleranceText.empty()) {
    char *end = nullptr;
    double t = std::strtod(toleranceText.c_str(), &end);
    if (*end != '\0' || !(t > 0))
      problem = "--tolerance takes a positive number";
    tolerance = t;
  }
  if (!problem.empty())
    return usage(problem);
  const std::string &actualPath = parsed.positional[0], &expectedPath = parsed.positional[1];
  std::map<std::string, Named> actual, expected, base;
  std::string error;
  if (!load(actualPath, actual, error) || !load(expectedPath, expected, error) ||
      (!basePath.empty() && !load(basePath, base, error)))
    return fail(error);

  // Every tensor of EXPECTED must be in ACTUAL (and in BASE) with its shape; ACTUAL may hold more (a kit ships a
  // subset of a large model's weights).
  nlohmann::json report = {{"actual", actualPath}, {"expected", expectedPath}, {"tensors", expected.size()}};
  nlohmann::json worst = {{"tensor", ""}, {"error", 0.0}}, worstUpdate = worst;
  int64_t negligible = 0;
  for (const auto &[name, e] : expected) {
    const std::string label = name.empty() ? expectedPath : name;
    auto a = actual.find(name);
    if (a == actual.end())
      return fail(actualPath + ": no tensor " + label + " (it is in " + expectedPath + ")");
    if (a->second.shape != e.shape)
      return fail(label + ": shape " + rt::shapeText(a->second.shape) + " in " + actualPath + ", " +
                  rt::shapeText(e.shape) + " in " + expectedPath);
    double err = relativeError(a->second.values, e.values, nullptr);
    if (!(err <= worst["error"].get<double>()))
      worst = {{"tensor", label}, {"error", err}};
    if (basePath.empty())
      continue;
    auto b = base.find(name);
    if (b == base.end() || b->second.shape != e.shape)
      return fail(basePath + ": no tensor " + label + " of shape " + rt::shapeText(e.shape));
    // An expected update within a few float32 ulps of the tensor's scale is not measurable in float32 weights:
    // such a tensor is compared as weights only.
    double updateScale = 0, baseScale = 0;
    for (size_t i = 0; i < e.values.size(); ++i) {
      updateScale = std::max(updateScale, std::abs(e.values[i] - b->second.values[i]));
      baseScale = std::max(baseScale, std::abs(b->second.values[i]));
    }
    if (updateScale <= kNegligibleUpdate * baseScale) {
      ++negligible;
      continue;
    }
    double updateErr = relativeError(a->second.values, e.values, &b->second.values);
    if (!(updateErr <= worstUpdate["error"].get<double>()))
      worstUpdate = {{"tensor", label}, {"error", updateErr}};
  }
  report["worst"] = worst;
  if (!basePath.empty()) {
    report["worst_update"] = worstUpdate;
    report["negligible_updates"] = negligible;
  }
  bool within = !tolerance || (worst["error"].get<double>() <= *tolerance &&
                               (basePath.empty() || worstUpdate["error"].get<double>() <= *tolerance));
  if (tolerance)
    report["tolerance"] = *tolerance;
  report["within"] = within;
  std::cout << report.dump() << std::endl;
  if (!within)
    return fail("compare: " + actualPath + " differs from " + expectedPath + " by more than " + toleranceText);
  return 0;
}

} // namespace vidnet
