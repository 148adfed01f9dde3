// vidrun: runs compiled bundles. Thin: argument parsing and file I/O here, the work in the
// runtime's C API.
#include "runtime/io/Npy.h"
#include "runtime/io/ShapeText.h"
#include "vidnet/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char *kUsage =
    "usage: vidrun forward BUNDLE (--weights W.safetensors | --seed S) --input X.npy --output Y.npy\n"
    "       vidrun init BUNDLE [--seed S] --out W.safetensors\n"
    "\n"
    "  forward    logits of every clip in X (N x C x L x H x W float32, torchvision's layout)\n"
    "             into Y (N x classes float32); eval-mode batch norm; any N\n"
    "  init       torchvision's initialization (Kaiming normal fan_out, BN 1/0, fc N(0, 0.01))\n"
    "             from a deterministic seed, saved as safetensors with torchvision's names\n"
    "  --weights  safetensors with torchvision's state_dict names and PyTorch layouts\n"
    "  --seed S   initialize instead of loading weights (default 0 for init)\n";

int usage(const std::string &problem) {
  std::cerr << "vidrun: " << problem << "\n" << kUsage;
  return 2;
}

int fail(const std::string &message) {
  std::cerr << "vidrun: " << message << '\n';
  return 1;
}

// Owns a vn_status; converts it to an error exit.
struct Status {
  vn_status s;
  explicit operator bool() const { return s != nullptr; }
  ~Status() { vn_status_free(s); }
  std::string message() const { return vn_status_message(s); }
};

struct BundleCloser {
  void operator()(vn_bundle *b) const { vn_bundle_close(b); }
};
struct ModelDestroyer {
  void operator()(vn_model *m) const { vn_model_destroy(m); }
};

bool parseSeed(std::string_view text, uint64_t &seed) {
  if (text.empty() || text.size() > 19)
    return false;
  seed = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    seed = seed * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return usage("say what to do: forward or init");
  std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (command != "forward" && command != "init")
    return usage("unknown command '" + command + "'");
  std::string bundleDir, weights, input, output, out;
  std::optional<uint64_t> seed;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string &dst) {
      if (i + 1 >= argc || argv[i + 1][0] == '\0')
        return false;
      dst = argv[++i];
      return true;
    };
    if (arg == "--weights" && command == "forward") {
      if (!value(weights))
        return usage("--weights takes a .safetensors file");
    } else if (arg == "--input" && command == "forward") {
      if (!value(input))
        return usage("--input takes a .npy file");
    } else if (arg == "--output" && command == "forward") {
      if (!value(output))
        return usage("--output takes a .npy file to write");
    } else if (arg == "--out" && command == "init") {
      if (!value(out))
        return usage("--out takes a .safetensors file to write");
    } else if (arg == "--seed") {
      std::string text;
      uint64_t s = 0;
      if (!value(text) || !parseSeed(text, s))
        return usage("--seed takes a non-negative integer");
      seed = s;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage("unknown option '" + std::string(arg) + "' for " + command);
    } else if (bundleDir.empty()) {
      bundleDir = arg;
    } else {
      return usage("unexpected argument '" + std::string(arg) + "'");
    }
  }
  if (bundleDir.empty())
    return usage("no bundle given");
  if (command == "forward") {
    if (input.empty() || output.empty())
      return usage("forward needs --input and --output");
    if (weights.empty() == !seed)
      return usage(weights.empty() ? "forward needs --weights (or --seed for torchvision-style random weights)"
                                   : "give --weights or --seed, not both");
  } else if (out.empty()) {
    return usage("init needs --out");
  }

  vn_bundle *rawBundle = nullptr;
  if (Status s{vn_bundle_open(bundleDir.c_str(), &rawBundle)})
    return fail(s.message());
  std::unique_ptr<vn_bundle, BundleCloser> bundle(rawBundle);
  vn_model *rawModel = nullptr;
  if (Status s{vn_model_create(bundle.get(), &rawModel)})
    return fail(s.message());
  std::unique_ptr<vn_model, ModelDestroyer> model(rawModel);

  if (command == "init") {
    vn_model_initialize(model.get(), seed.value_or(0));
    if (Status s{vn_model_save_weights(model.get(), out.c_str())})
      return fail(s.message());
    return 0;
  }

  // Read and check the input before the (possibly slow) weight load.
  vidnet::rt::NpyArray x;
  std::string error;
  if (!vidnet::rt::readNpy(input, x, error))
    return fail(error);
  int64_t clip[4];
  vn_bundle_clip_shape(bundle.get(), clip);
  std::vector<int64_t> clipShape(clip, clip + 4);
  if (x.shape.size() != 5 || x.shape[0] < 1 || !std::equal(x.shape.begin() + 1, x.shape.end(), clipShape.begin()))
    return fail(input + ": shape " + vidnet::rt::shapeText(x.shape) + ", the bundle expects [N, " +
                vidnet::rt::shapeText(clipShape).substr(1) + " (N x C x L x H x W)");
  std::vector<float> clips(static_cast<size_t>(x.elements()));
  if (x.dtype == "<f4") {
    std::memcpy(clips.data(), x.data.data(), x.data.size());
  } else if (x.dtype == "<f8") {
    for (size_t i = 0; i < clips.size(); ++i) {
      double d;
      std::memcpy(&d, x.data.data() + 8 * i, 8);
      clips[i] = static_cast<float>(d);
    }
  } else {
    return fail(input + ": dtype " + x.dtype + ", expected float32 (<f4) or float64 (<f8)");
  }

  if (seed) {
    vn_model_initialize(model.get(), *seed);
  } else if (Status s{vn_model_load_weights(model.get(), weights.c_str())}) {
    return fail(s.message());
  }
  int64_t n = x.shape[0], classes = vn_bundle_classes(bundle.get());
  std::vector<float> logits(static_cast<size_t>(n * classes));
  auto start = std::chrono::steady_clock::now();
  if (Status s{vn_model_forward(model.get(), clips.data(), n, logits.data())})
    return fail(s.message());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!vidnet::rt::writeNpy(output, "<f4", {n, classes}, logits.data(), logits.size() * sizeof(float), error))
    return fail(error);
  std::fprintf(stderr, "vidrun: %lld clips through %s in %.2f s (%.1f clips/s) -> %s\n", static_cast<long long>(n),
               vn_bundle_model_name(bundle.get()), seconds, static_cast<double>(n) / seconds, output.c_str());
  return 0;
}
