// `vidc kernels`: reads manifest.json's "cuda" section, written at build time from ptxas -v.
#include "tools/vidc/KernelsCommand.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

namespace vidnet {
namespace {

// "layer1.0.conv1.0, layer1.0.conv1.1 +2" : the first ops a kernel covers and how many more.
std::string opsSummary(const nlohmann::json &ops) {
  std::string s;
  size_t shown = 0;
  for (const auto &op : ops) {
    if (shown == 3)
      break;
    s += (shown++ ? ", " : "") + op.get<std::string>();
  }
  if (ops.size() > shown)
    s += " +" + std::to_string(ops.size() - shown);
  return s;
}

std::string dims(const nlohmann::json &d) {
  return std::to_string(d[0].get<long long>()) + "x" + std::to_string(d[1].get<long long>()) + "x" +
         std::to_string(d[2].get<long long>());
}

} // namespace

int printKernels(const std::string &bundleDir, bool json) {
  std::ifstream in(bundleDir + "/manifest.json");
  if (!in) {
    std::cerr << "vidc: kernels: cannot read " << bundleDir << "/manifest.json (not a bundle?)\n";
    return 1;
  }
  nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    std::cerr << "vidc: kernels: " << bundleDir << "/manifest.json is not valid JSON\n";
    return 1;
  }
  if (!manifest.contains("cuda")) {
    std::cerr << "vidc: kernels: " << bundleDir << " was compiled for the CPU; kernels are listed for CUDA "
              << "bundles (vidc build --target cuda:sm_90)\n";
    return 1;
  }
  try {
    const nlohmann::json &cuda = manifest.at("cuda");
    nlohmann::ordered_json out;
    out["arch"] = cuda.at("arch");
    for (const auto &[entry, plan] : cuda.at("entry_points").items()) {
      int kernels = plan.at("kernels").get<int>(), ops = plan.at("vidnet_ops").get<int>();
      out["entry_points"][entry] = {{"kernels", kernels},
                                    {"vidnet_ops", ops},
                                    {"ops_per_kernel", kernels ? static_cast<double>(ops) / kernels : 0.0},
                                    {"arena_bytes", plan.at("arena_bytes")}};
    }
    out["kernels"] = cuda.at("kernels");
    if (json) {
      std::cout << out.dump(2) << '\n';
      return 0;
    }
    std::cout << manifest.value("model", "?") << " for " << cuda.at("arch").get<std::string>() << '\n';
    for (const auto &[entry, s] : out["entry_points"].items()) {
      std::printf("%-10s %4d kernels for %4d vidnet ops (%.2f ops per kernel), arena %.1f MiB\n", entry.c_str(),
                  s["kernels"].get<int>(), s["vidnet_ops"].get<int>(), s["ops_per_kernel"].get<double>(),
                  s["arena_bytes"].get<double>() / (1 << 20));
    }
    std::printf("%-16s %-12s %-8s %4s %6s %6s  %s\n", "kernel", "grid", "block", "regs", "smem", "spill", "ops");
    for (const auto &k : cuda.at("kernels")) {
      int spill = k.at("spill_store_bytes").get<int>() + k.at("spill_load_bytes").get<int>();
      std::printf("%-16s %-12s %-8s %4d %6d %6d  %s\n", k.at("name").get<std::string>().c_str(),
                  dims(k.at("grid")).c_str(), dims(k.at("block")).c_str(), k.at("registers").get<int>(),
                  k.at("shared_bytes").get<int>(), spill, opsSummary(k.at("ops")).c_str());
    }
  } catch (const nlohmann::json::exception &e) {
    std::cerr << "vidc: kernels: " << bundleDir << "/manifest.json: malformed cuda section (" << e.what() << ")\n";
    return 1;
  }
  return 0;
}

} // namespace vidnet
