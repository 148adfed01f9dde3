// vidrun: runs compiled bundles. Thin: argument parsing and file I/O here, the work in the
// runtime's C API.
#include "runtime/data/VideoSupport.h"
#include "runtime/io/ClipArrays.h"
#include "runtime/io/Npy.h"
#include "tools/vidrun/CommandLine.h"
#include "tools/vidrun/TrainCommand.h"
#include "tools/vidrun/VideoCommands.h"
#include "vidnet/runtime.h"

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
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
    "              [--device cpu|cuda]\n"
    "       vidrun init BUNDLE [--seed S] --out W.safetensors\n"
    "       vidrun step BUNDLE (--weights W.safetensors | --seed S) --input X.npy --labels Y.npy\n"
    "              [--lr 0.01] [--momentum 0.9] [--wd 0] [--steps 1] [--out W2.safetensors] [--device D]\n"
    "       vidrun train BUNDLE --data LIST [--classes C.txt] [--config C.json] [--set KEY=VALUE]...\n"
    "              [--weights W.safetensors | --finetune W.safetensors | --resume OUT_DIR] [--device D]\n"
    "       vidrun train BUNDLE --data X.npy --labels Y.npy [options as above]\n"
    "       vidrun eval BUNDLE --weights W --data LIST [--clips K] [--classes C.txt] [--out DIR]\n"
    "              [--device D] [settings]\n"
    "       vidrun features BUNDLE --weights W --data LIST --out F.npy [--clips K] [--classes C.txt]\n"
    "              [--device D] [settings]\n"
    "       vidrun clips [BUNDLE] --data LIST --dump CLIPS.npy [--train] [--raw] [--clips K]\n"
    "              [--classes C.txt] [--frames L --crop S] [settings]\n"
    "       vidrun bench BUNDLE [--device D] [--iters 10] [--warmup 2] [--entry forward|train_step|all]\n"
    "              [--weights W.safetensors] [--input X.npy [--labels Y.npy]]\n"
    "       vidrun profile BUNDLE [BUNDLE2...] [--entry forward|train_step] [--batch N] [--iters 5]\n"
    "              [--warmup 1] [--top 25] [--serial-clips] [--json]\n"
    "       vidrun compare ACTUAL EXPECTED [--base W0.safetensors] [--tolerance T]\n"
    "       vidrun devices\n"
    "       vidrun make-motion-set DIR [--classes 4] [--train-per-class 40] [--test-per-class 10]\n"
    "              [--frames 24] [--size 171x128] [--seed 1] [--codec mpeg4]\n"
    "       vidrun --help\n"
    "\n"
    "  forward    logits of every clip in X (N x C x L x H x W float32, torchvision's layout)\n"
    "             into Y (N x classes float32); eval-mode batch norm; any N\n"
    "  init       torchvision's initialization (Kaiming normal fan_out, BN 1/0, fc N(0, 0.01))\n"
    "             from a deterministic seed, saved as safetensors with torchvision's names\n"
    "  step       SGD steps (torch.optim.SGD semantics, training-mode BN) on one batch: X holds\n"
    "             exactly the bundle's batch of clips, Y their int64 labels; prints one JSON line\n"
    "             with the loss of every step; --out saves the weights after the last step\n"
    "  train      SGD with the config's schedule (configs/*.json: the paper's Kinetics recipe,\n"
    "             its fine-tuning recipe, a tiny CPU run); keys can be overridden with --set,\n"
    "             e.g. --set base_lr=0.1. Progress on stderr; OUT_DIR gets log.jsonl,\n"
    "             ckpt/step-N.{safetensors,json}, ckpt/last.json and curves.svg. --resume\n"
    "             continues a run from its last checkpoint with the same batches and losses;\n"
    "             --finetune loads weights but a new head (fc) for the bundle's classes\n"
    "  eval       K clips per video, uniformly spaced, centre crop; prints clip@1, video@1 and\n"
    "             video@5 (video = mean of its clips' softmax) and one JSON line; DIR gets\n"
    "             eval.json (per-class accuracy, confusion matrix, skipped videos) and confusion.svg\n"
    "  features   each video's pooled feature vector (the classifier's input, mean over K clips)\n"
    "             as a videos x features float32 .npy, rows named in F.json\n"
    "  clips      the clips the model sees (float32 N x C x L x H x W, normalized) or, with --raw,\n"
    "             uint8 N x L x H x W x 3 before normalization; CLIPS.json says where each came from\n"
    "  bench      times forward and train_step (SGD lr 0.01, momentum 0.9, weight decay 1e-4) on\n"
    "             X's clips (exactly the bundle's batch) or synthetic ones, with W's weights or\n"
    "             seed 0's; one JSON line with seconds per call (median, min, max), clips/s and the\n"
    "             first step's loss, and for a CUDA bundle the kernels launched, kernel-only and\n"
    "             copy times and the device memory allocated\n"
    "  profile    a CPU bundle's forward or train_step (default: train_step if built) timed loop by\n"
    "             loop: per spec layer and kind of work (conv, conv data gradient, conv filter\n"
    "             gradient, elementwise, fill), milliseconds, share, GFLOP/s and share of the FMA\n"
    "             peak measured in the same run, and each conv's least traffic (its operands\n"
    "             once) at the memory bandwidth measured too, as a share of its products' time\n"
    "             at the peak (elementwise loops: GB/s, share of the bandwidth); the profiled total\n"
    "             beside the untimed one; the forward runs --batch clips (default: the batch\n"
    "             the bundle was built for) as forward does, one per thread (a row's time is its\n"
    "             threads' total over their count), or with --serial-clips one after another,\n"
    "             each on every thread; with several bundles (up to 8) their calls take turns and\n"
    "             the table gives each row's time in every bundle and over the first's (--json: one\n"
    "             object per bundle per line; every row's min, median and max over the calls)\n"
    "  compare    max |actual - expected| / max |expected| of two .npy arrays, or of every tensor\n"
    "             of EXPECTED.safetensors (ACTUAL may hold more); with --base, also of the updates\n"
    "             since W0; one JSON line; exit 1 when --tolerance is exceeded\n"
    "  devices    the CUDA devices the driver offers: cuda:N sm_XY MEMORY NAME, one per line;\n"
    "             exit 1 with the reason when there is none\n"
    "  make-motion-set  encoded videos whose classes differ only in motion direction, with\n"
    "             train.csv, test.csv and classes.txt\n"
    "  --device   cpu or cuda (forward, step, train, eval, features): must be what the bundle\n"
    "             was built for (vidc build --target cuda:sm_90 for cuda); the default is that\n"
    "  LIST       a CSV of path,label (class name or index), a folder of class folders, or a\n"
    "             UCF101 split file; classes.txt beside it fixes the class indices\n"
    "  settings   --config C.json and --set KEY=VALUE: resize_height/width, frame_stride, flip,\n"
    "             mean, std, short_videos (loop|repeat_last|skip), eval_clips, loader_threads, ...\n"
    "  --weights  safetensors with torchvision's state_dict names and PyTorch layouts\n"
    "  --seed S   initialize instead of loading weights (default 0 for init)\n"
    "  VIDNET_THREADS=N      threads (default: every hardware thread); results do not depend on it\n"
    "  VIDNET_CUDA_DEVICE=N  the GPU that --device cuda uses (default 0)\n"
    "  more in docs/: training.md, data.md, cuda.md, performance.md\n";

// `vidrun CMD --help`: CMD's usage lines and its paragraph of kUsage, then the shared terms
// (LIST, settings, --device, ...); the whole text when CMD is not a command.
std::string commandHelp(const std::string &command) {
  std::string lines, about, shared, text = kUsage;
  bool inUsage = false, inAbout = false, pastCommands = false;
  for (size_t start = 0, end; start < text.size(); start = end + 1) {
    end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    const bool continuation = line.starts_with("             ");
    if (line.starts_with("usage: ") || line.starts_with("       vidrun")) {
      inUsage = line.find("vidrun " + command + " ") != std::string::npos;
      if (inUsage)
        lines += "usage: " + line.substr(line.find("vidrun")) + "\n";
    } else if (continuation && (inUsage || inAbout)) {
      (inUsage ? lines : about) += line + "\n";
    } else if (line.starts_with("  ") && !continuation) {
      inUsage = false;
      inAbout = line.starts_with("  " + command + " ");
      pastCommands = pastCommands || line.starts_with("  --device");
      if (inAbout)
        about += line + "\n";
      else if (pastCommands)
        shared += line + "\n";
    } else if (continuation && pastCommands) {
      shared += line + "\n";
    }
  }
  return lines.empty() ? text : lines + "\n" + about + shared;
}

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

bool parseNonNegative(const std::string &text, float &out) {
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !(v >= 0) || v > 1e30)
    return false;
  out = static_cast<float>(v);
  return true;
}

// `steps` SGD steps on one batch; one JSON line with every loss on stdout.
int runSteps(vn_model *model, const std::vector<float> &clips, const std::vector<int64_t> &labels,
             const float hyper[3], int64_t steps, const std::string &out, std::vector<float> &logits) {
  std::vector<float> losses;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    float loss = 0;
    if (Status s{vn_model_train_step(model, clips.data(), labels.data(), hyper, &loss, logits.data())})
      return fail(s.message());
    losses.push_back(loss);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!out.empty())
    if (Status s{vn_model_save_weights(model, out.c_str())})
      return fail(s.message());
  std::printf("{\"steps\": %lld, \"loss\": %.9g, \"losses\": [", static_cast<long long>(steps),
              static_cast<double>(losses.back()));
  for (size_t i = 0; i < losses.size(); ++i)
    std::printf("%s%.9g", i ? ", " : "", static_cast<double>(losses[i]));
  std::printf("], \"seconds_per_step\": %.4f}\n", seconds / static_cast<double>(steps));
  return 0;
}

int run(int argc, char **argv) {
  if (argc < 2)
    return usage("say what to do: forward, init, step, train, eval, features, clips, bench, profile, compare, devices or "
                 "make-motion-set");
  std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  for (int i = 2; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << commandHelp(command);
      return 0;
    }
  if (command == "train")
    return vidnet::trainCommand(argc, argv, usage, fail);
  const bool videoCommand =
      command == "eval" || command == "features" || command == "clips" || command == "make-motion-set";
  if (std::string why = vidnet::data::videoUnavailableReason(); videoCommand && !why.empty())
    return fail(command + ": " + why);
  if (command == "eval")
    return vidnet::evalCommand(argc, argv, usage, fail);
  if (command == "features")
    return vidnet::featuresCommand(argc, argv, usage, fail);
  if (command == "clips")
    return vidnet::clipsCommand(argc, argv, usage, fail);
  if (command == "make-motion-set")
    return vidnet::makeMotionSetCommand(argc, argv, usage, fail);
  if (command == "bench")
    return vidnet::benchCommand(argc, argv, usage, fail);
  if (command == "profile")
    return vidnet::profileCommand(argc, argv, usage, fail);
  if (command == "compare")
    return vidnet::compareCommand(argc, argv, usage, fail);
  if (command == "devices")
    return vidnet::devicesCommand(argc, argv, usage, fail);
  if (command != "forward" && command != "init" && command != "step")
    return usage("unknown command '" + command + "'");
  std::string bundleDir, weights, input, output, out, labelsPath, device;
  std::optional<uint64_t> seed;
  float hyper[3] = {0.01f, 0.9f, 0.0f};
  int64_t steps = 1;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string &dst) {
      if (i + 1 >= argc || argv[i + 1][0] == '\0')
        return false;
      dst = argv[++i];
      return true;
    };
    bool runs = command == "forward" || command == "step";
    if (arg == "--weights" && runs) {
      if (!value(weights))
        return usage("--weights takes a .safetensors file");
    } else if (arg == "--labels" && command == "step") {
      if (!value(labelsPath))
        return usage("--labels takes a .npy file of int64 labels");
    } else if ((arg == "--lr" || arg == "--momentum" || arg == "--wd") && command == "step") {
      std::string text;
      float &dst = hyper[arg == "--lr" ? 0 : arg == "--momentum" ? 1 : 2];
      if (!value(text) || !parseNonNegative(text, dst))
        return usage(std::string(arg) + " takes a non-negative number");
    } else if (arg == "--steps" && command == "step") {
      std::string text;
      uint64_t n = 0;
      if (!value(text) || !parseSeed(text, n) || n < 1 || n > 1000000)
        return usage("--steps takes a positive integer");
      steps = static_cast<int64_t>(n);
    } else if (arg == "--device" && runs) {
      if (!value(device))
        return usage("--device takes cpu or cuda");
    } else if (arg == "--input" && runs) {
      if (!value(input))
        return usage("--input takes a .npy file");
    } else if (arg == "--output" && command == "forward") {
      if (!value(output))
        return usage("--output takes a .npy file to write");
    } else if (arg == "--out" && (command == "init" || command == "step")) {
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
  if (command == "step") {
    if (input.empty() || labelsPath.empty())
      return usage("step needs --input and --labels");
    if (weights.empty() == !seed)
      return usage(weights.empty() ? "step needs --weights (or --seed for torchvision-style random weights)"
                                   : "give --weights or --seed, not both");
  } else if (command == "forward") {
    if (input.empty() || output.empty())
      return usage("forward needs --input and --output");
    if (weights.empty() == !seed)
      return usage(weights.empty() ? "forward needs --weights (or --seed for torchvision-style random weights)"
                                   : "give --weights or --seed, not both");
  } else if (out.empty()) {
    return usage("init needs --out");
  }

  bool usageProblem = false;
  if (std::string mismatch = vidnet::deviceMismatch(bundleDir, device, usageProblem); !mismatch.empty())
    return usageProblem ? usage(mismatch) : fail(mismatch);
  vn_bundle *rawBundle = nullptr;
  if (Status s{vn_bundle_open(bundleDir.c_str(), &rawBundle)})
    return fail(s.message());
  std::unique_ptr<vn_bundle, BundleCloser> bundle(rawBundle);
  // The model draws its weights once (--seed) or not at all (--weights).
  std::unique_ptr<vn_model, ModelDestroyer> model;
  auto createModel = [&]() -> vn_status {
    vn_model *created = nullptr;
    vn_status status = seed || command == "init" ? vn_model_create_seeded(bundle.get(), seed.value_or(0), &created)
                                                 : vn_model_open_weights(bundle.get(), weights.c_str(), &created);
    model.reset(created);
    return status;
  };

  if (command == "init") {
    if (Status s{createModel()})
      return fail(s.message());
    if (Status s{vn_model_save_weights(model.get(), out.c_str())})
      return fail(s.message());
    return 0;
  }

  // Read and check the input before the (possibly slow) weight load.
  int64_t clip[4], n = 0;
  vn_bundle_clip_shape(bundle.get(), clip);
  std::vector<float> clips;
  std::string error;
  if (!vidnet::rt::readClipsNpy(input, {clip, clip + 4}, clips, n, error))
    return fail(error);

  std::vector<int64_t> labels;
  if (command == "step") {
    int64_t batch = vn_bundle_train_batch(bundle.get());
    if (batch == 0)
      return fail(bundleDir + ": built with --forward-only (no train_step); rebuild it with vidc build");
    if (n != batch)
      return fail(input + ": " + std::to_string(n) + " clips; the bundle's train step takes exactly " +
                  std::to_string(batch) + " (vidc build --batch)");
    if (!vidnet::rt::readLabelsNpy(labelsPath, batch, labels, error))
      return fail(error);
  }

  if (Status s{createModel()})
    return fail(s.message());
  int64_t classes = vn_bundle_classes(bundle.get());
  std::vector<float> logits(static_cast<size_t>(n * classes));
  if (command == "step")
    return runSteps(model.get(), clips, labels, hyper, steps, out, logits);
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

} // namespace

// The runtime reports failures as values; what is left to throw (out of memory for a huge batch,
// a bug) still ends as the one line and exit 1 of every other failure.
int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc &) {
    return fail("out of memory");
  } catch (const std::exception &e) {
    return fail(std::string("internal error: ") + e.what());
  }
}
