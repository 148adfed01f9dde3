// `vidc kernels`: reads manifest.json's "cuda" section, written at build time from ptxas -v.
#include "tools/vidc/KernelsCommand.h"

#include "runtime/io/JsonReader.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

namespace vidnet {
namespace {

using nlohmann::json;

struct KernelRow {
  std::string name, ops;
  std::vector<int64_t> grid, block;
  int64_t registers = 0, sharedBytes = 0, spillBytes = 0;
};

// "layer1.0.conv1.0, layer1.0.conv1.1 +2" : the first ops a kernel covers and how many more.
bool readKernel(rt::JsonReader &r, const json &k, const std::string &at, KernelRow &row) {
  int64_t spillStores = 0, spillLoads = 0;
  std::vector<std::string> ops;
  if (!r.string(k, "name", at, row.name) || !r.dims(k, "grid", at, row.grid, 3) ||
      !r.dims(k, "block", at, row.block, 3) || !r.integer(k, "registers", at, row.registers) ||
      !r.integer(k, "shared_bytes", at, row.sharedBytes) || !r.integer(k, "spill_store_bytes", at, spillStores) ||
      !r.integer(k, "spill_load_bytes", at, spillLoads))
    return false;
  // A kernel may compute no model op of its own (a copy or a zero fill), so `ops` may be empty.
  const json *opList = r.member(k, "ops", at);
  if (!opList)
    return false;
  if (!opList->is_array())
    return r.expected(at + ".ops", "an array of op names", *opList);
  for (size_t i = 0; i < opList->size(); ++i) {
    if (!(*opList)[i].is_string())
      return r.expected(at + ".ops[" + std::to_string(i) + "]", "an op name", (*opList)[i]);
    ops.push_back((*opList)[i].get<std::string>());
  }
  row.spillBytes = spillStores + spillLoads;
  for (size_t i = 0; i < ops.size() && i < 3; ++i)
    row.ops += (i ? ", " : "") + ops[i];
  if (ops.size() > 3)
    row.ops += " +" + std::to_string(ops.size() - 3);
  return true;
}

std::string dims(const std::vector<int64_t> &d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i)
    s += (i ? "x" : "") + std::to_string(d[i]);
  return s;
}

} // namespace

int printKernels(const std::string &bundleDir, bool asJson) {
  const std::string path = bundleDir + "/manifest.json";
  std::ifstream in(path);
  if (!in) {
    std::cerr << "vidc: kernels: cannot read " << path << " (not a bundle?)\n";
    return 1;
  }
  json manifest = json::parse(in, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    std::cerr << "vidc: kernels: " << path << " is not valid JSON\n";
    return 1;
  }
  if (!manifest.contains("cuda")) {
    std::cerr << "vidc: kernels: " << bundleDir << " was compiled for the CPU; kernels are listed for CUDA "
              << "bundles (vidc build --target cuda:sm_90)\n";
    return 1;
  }
  std::string error, arch;
  rt::JsonReader r("", error);
  const json &cuda = manifest["cuda"];
  nlohmann::ordered_json out;
  const json *entries = r.member(cuda, "entry_points", "cuda");
  std::vector<KernelRow> rows;
  bool ok = r.string(cuda, "arch", "cuda", arch) && entries;
  if (ok && !entries->is_object())
    ok = r.expected("cuda.entry_points", "an object", *entries);
  if (ok)
    for (const auto &[entry, plan] : entries->items()) {
      std::string at = "cuda.entry_points." + entry;
      int64_t kernels = 0, ops = 0, arena = 0;
      if (!(ok = r.integer(plan, "kernels", at, kernels) && r.integer(plan, "vidnet_ops", at, ops) &&
                 r.integer(plan, "arena_bytes", at, arena, 0, INT64_MAX)))
        break;
      // Launches of identical layers share a kernel: how many the entry compiled.
      std::set<std::string> distinct;
      if (const json *launches = plan.is_object() && plan.contains("launches") ? &plan["launches"] : nullptr;
          launches && launches->is_array())
        for (const json &l : *launches)
          if (l.is_object() && l.contains("kernel") && l["kernel"].is_string())
            distinct.insert(l["kernel"].get<std::string>());
      out["entry_points"][entry] = {{"kernels", kernels},
                                    {"distinct_kernels", distinct.size()},
                                    {"vidnet_ops", ops},
                                    {"ops_per_kernel", kernels ? static_cast<double>(ops) / static_cast<double>(kernels) : 0.0},
                                    {"arena_bytes", arena}};
    }
  ok = ok && r.array(cuda, "kernels", "cuda", rows, [&](const json &k, const std::string &at, KernelRow &row) {
    return readKernel(r, k, at, row);
  });
  if (!ok) {
    std::cerr << "vidc: kernels: " << path << ": malformed cuda section: " << error << "\n";
    return 1;
  }
  if (asJson) {
    out = {{"arch", arch}, {"entry_points", out["entry_points"]}, {"kernels", cuda["kernels"]}};
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  std::cout << manifest.value("model", "?") << " for " << arch << '\n';
  for (const auto &[entry, s] : out["entry_points"].items())
    std::printf("%-10s %4lld kernels for %4lld vidnet ops (%.2f ops per kernel; %lld distinct), arena %.1f MiB\n",
                entry.c_str(), s["kernels"].get<long long>(), s["vidnet_ops"].get<long long>(),
                s["ops_per_kernel"].get<double>(), s["distinct_kernels"].get<long long>(),
                s["arena_bytes"].get<double>() / (1 << 20));
  std::printf("%-16s %-12s %-8s %4s %6s %6s  %s\n", "kernel", "grid", "block", "regs", "smem", "spill", "ops");
  for (const KernelRow &k : rows)
    std::printf("%-16s %-12s %-8s %4lld %6lld %6lld  %s\n", k.name.c_str(), dims(k.grid).c_str(), dims(k.block).c_str(),
                static_cast<long long>(k.registers), static_cast<long long>(k.sharedBytes),
                static_cast<long long>(k.spillBytes), k.ops.c_str());
  return 0;
}

} // namespace vidnet
