// Printing ModelGraphs: an aligned per-layer table for people, JSON for programs.
#include "compiler/GraphReport.h"

#include <cstdio>
#include <iomanip>

namespace vidnet {

std::string withThousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string giga(int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fG", static_cast<double>(n) / 1e9);
  return buf;
}

namespace {

// What a reader wants next to a conv: kernel, stride, and M_i for (2+1)D.
std::string detail(const Layer &l) {
  switch (l.kind) {
  case LayerKind::Conv:
    return toString(l.kernel) + " /" + toString(l.stride) +
           (l.groups == 1                                             ? ""
            : l.groups == l.inChannels && l.groups == l.outChannels ? " depthwise"
                                                                      : " groups " + std::to_string(l.groups));
  case LayerKind::MaxPool:
    return toString(l.kernel) + " /" + toString(l.stride) + " pad " + toString(l.pad);
  case LayerKind::Conv2Plus1d:
    return "1x" + std::to_string(l.kernel.h) + "x" + std::to_string(l.kernel.w) + " -> " +
           std::to_string(l.kernel.t) + "x1x1 /" + toString(l.stride) + " mid " +
           std::to_string(l.mid);
  default:
    return "";
  }
}

nlohmann::ordered_json dims(const Dims3 &d) { return {d.t, d.h, d.w}; }
nlohmann::ordered_json shape(const Shape &s) { return {s.c, s.l, s.h, s.w}; }

} // namespace

void printInfoTable(const ModelGraph &g, std::ostream &os) {
  os << g.name << " (" << g.specPath << "): input " << toString(g.input) << ", " << g.classes
     << " classes\n";
  os << std::left << std::setw(24) << "layer" << std::setw(12) << "kind" << std::setw(34)
     << "conv" << std::setw(16) << "output" << std::right << std::setw(12) << "params"
     << std::setw(10) << "MACs" << '\n';
  for (const Layer &l : g.layers) {
    os << std::left << std::setw(24) << l.name << std::setw(12) << layerKindName(l.kind)
       << std::setw(34) << detail(l) << std::setw(16) << toString(l.output) << std::right
       << std::setw(12) << (l.params ? withThousands(l.params) : "") << std::setw(10)
       << (l.macs ? giga(l.macs) : "") << '\n';
  }
  os << "total: " << withThousands(g.params) << " params ("
     << std::fixed << std::setprecision(2) << static_cast<double>(g.params) / 1e6
     << "M), " << giga(g.macs) << " MACs per clip, " << g.layers.size() << " layers\n";
  os.unsetf(std::ios::fixed);
  os.precision(6);
}

nlohmann::ordered_json graphToJson(const ModelGraph &g) {
  nlohmann::ordered_json j;
  j["model"] = g.name;
  j["spec"] = g.specPath;
  j["input"] = shape(g.input);
  j["classes"] = g.classes;
  j["params"] = g.params;
  j["macs"] = g.macs;
  j["state_elements"] = g.stateElements;
  j["bn_eps"] = g.bnEpsilon;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const Layer &l : g.layers) {
    nlohmann::ordered_json o;
    o["name"] = l.name;
    o["kind"] = layerKindName(l.kind);
    o["line"] = l.loc.line;
    o["inputs"] = l.inputs;
    o["output_shape"] = shape(l.output);
    o["params"] = l.params;
    o["macs"] = l.macs;
    if (l.kind == LayerKind::Conv || l.kind == LayerKind::Conv2Plus1d) {
      o["in_channels"] = l.inChannels;
      o["out_channels"] = l.outChannels;
      o["kernel"] = dims(l.kernel);
      o["stride"] = dims(l.stride);
      o["padding"] = dims(l.pad);
    }
    if (l.kind == LayerKind::Conv)
      o["groups"] = l.groups;
    if (l.kind == LayerKind::MaxPool) {
      o["kernel"] = dims(l.kernel);
      o["stride"] = dims(l.stride);
      o["padding"] = dims(l.pad);
    }
    if (l.kind == LayerKind::Conv2Plus1d)
      o["mid"] = l.mid;
    if (!l.tensors.empty()) {
      nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
      for (const TensorInfo &t : l.tensors)
        tensors.push_back({{"name", t.name},
                           {"shape", t.shape},
                           {"trainable", t.trainable},
                           {"init", tensorInitName(t.init)},
                           {"dtype", t.isInteger ? "int64" : "float32"}});
      o["tensors"] = std::move(tensors);
    }
    layers.push_back(std::move(o));
  }
  j["layers"] = std::move(layers);
  return j;
}

} // namespace vidnet
