// Strict parsing of `vidrun train` settings (JSON files and --set overrides) and the LR schedule.
#include "runtime/train/TrainConfig.h"

#include "runtime/io/AtomicFile.h"
#include "runtime/io/JsonReader.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <variant>

namespace vidnet::train {

using nlohmann::json;

namespace {

using Member = std::variant<int64_t TrainConfig::*, uint64_t TrainConfig::*, double TrainConfig::*,
                            std::string TrainConfig::*, bool TrainConfig::*, std::vector<double> TrainConfig::*>;

bool positive(double x) { return x > 0; }
bool nonNegative(double x) { return x >= 0; }
bool decayFactor(double x) { return x > 0 && x <= 1; }
bool momentumRange(double x) { return x >= 0 && x < 1; }

struct Field {
  std::string_view key;
  Member member;
  std::string_view expected;  // completes "expected ..."
  bool (*accepts)(double);    // numbers only; strings must be non-empty
  std::string_view choices = {};  // strings only: the accepted words, space-separated; empty = any
};

// The one list of settings: parsing, overrides and toJson all go through it.
const Field kFields[] = {
    {"epochs", &TrainConfig::epochs, "a positive integer", positive},
    {"epoch_size", &TrainConfig::epochSize, "a positive integer", positive},
    {"batch_size", &TrainConfig::batchSize, "a positive integer", positive},
    {"base_lr", &TrainConfig::baseLr, "a positive number", positive},
    {"warmup_epochs", &TrainConfig::warmupEpochs, "a non-negative number", nonNegative},
    {"lr_step_epochs", &TrainConfig::lrStepEpochs, "a positive integer", positive},
    {"lr_decay", &TrainConfig::lrDecay, "a number in (0, 1]", decayFactor},
    {"momentum", &TrainConfig::momentum, "a number in [0, 1)", momentumRange},
    {"weight_decay", &TrainConfig::weightDecay, "a non-negative number", nonNegative},
    {"seed", &TrainConfig::seed, "a non-negative integer", nonNegative},
    {"checkpoint_every", &TrainConfig::checkpointEvery, "a non-negative integer (0: only at the end)", nonNegative},
    {"log_every", &TrainConfig::logEvery, "a positive integer", positive},
    {"out_dir", &TrainConfig::outDir, "a non-empty string", nullptr},
    {"resize_height", &TrainConfig::resizeHeight, "a positive integer", positive},
    {"resize_width", &TrainConfig::resizeWidth, "a positive integer", positive},
    {"resize_filter", &TrainConfig::resizeFilter, "one of bicubic, bilinear, area", nullptr, "bicubic bilinear area"},
    {"frame_stride", &TrainConfig::frameStride, "a positive integer", positive},
    {"flip", &TrainConfig::flip, "true or false", nullptr},
    {"mean", &TrainConfig::mean, "3 numbers (R, G, B)", nullptr},
    {"std", &TrainConfig::std, "3 positive numbers (R, G, B)", positive},
    {"short_videos", &TrainConfig::shortVideos, "one of loop, repeat_last, skip", nullptr, "loop repeat_last skip"},
    {"eval_clips", &TrainConfig::evalClips, "a positive integer", positive},
    {"loader_threads", &TrainConfig::loaderThreads, "a non-negative integer", nonNegative},
    {"prefetch_batches", &TrainConfig::prefetchBatches, "a positive integer", positive},
};

// A field without choices takes any value its type allows.
bool isChoice(const Field &f, const json &v) {
  if (f.choices.empty())
    return true;
  if (!v.is_string())
    return false;
  const std::string &word = v.get_ref<const std::string &>();
  for (size_t start = 0; start <= f.choices.size();) {
    size_t end = std::min(f.choices.find(' ', start), f.choices.size());
    if (f.choices.substr(start, end - start) == word)
      return true;
    start = end + 1;
  }
  return false;
}

const Field *findField(std::string_view key) {
  for (const Field &f : kFields)
    if (f.key == key)
      return &f;
  return nullptr;
}

// JSON text for messages, as every JSON reader of the project shows a value.
std::string show(const json &v) { return rt::JsonReader::describe(v); }

std::string keyText(std::string_view key) { return show(json(std::string(key))); }

// Integers must be JSON integers: 45.0 or 1e6 is more likely a slip than intent.
bool assignTo(int64_t &dst, const json &v, bool (*accepts)(double)) {
  // nlohmann stores non-negative integers as unsigned; one above INT64_MAX would wrap.
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())))
    return false;
  const int64_t x = v.get<int64_t>();
  if (!accepts(static_cast<double>(x)))
    return false;
  dst = x;
  return true;
}

bool assignTo(uint64_t &dst, const json &v, bool (*)(double)) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    return false;
  dst = v.get<uint64_t>();
  return true;
}

bool assignTo(double &dst, const json &v, bool (*accepts)(double)) {
  if (!v.is_number())
    return false;
  const double x = v.get<double>();
  if (!std::isfinite(x) || !accepts(x))
    return false;
  dst = x;
  return true;
}

bool assignTo(std::string &dst, const json &v, bool (*)(double)) {
  if (!v.is_string() || v.get_ref<const std::string &>().empty())
    return false;
  dst = v.get<std::string>();
  return true;
}

bool assignTo(bool &dst, const json &v, bool (*)(double)) {
  if (!v.is_boolean())
    return false;
  dst = v.get<bool>();
  return true;
}

// Per-channel values: exactly 3 finite numbers, each accepted when `accepts` is given.
bool assignTo(std::vector<double> &dst, const json &v, bool (*accepts)(double)) {
  if (!v.is_array() || v.size() != 3)
    return false;
  std::vector<double> values;
  for (const json &x : v) {
    if (!x.is_number() || !std::isfinite(x.get<double>()) || (accepts && !accepts(x.get<double>())))
      return false;
    values.push_back(x.get<double>());
  }
  dst = std::move(values);
  return true;
}

bool assign(TrainConfig &c, const Field &f, const json &v, std::string &error) {
  if (isChoice(f, v) && std::visit([&](auto member) { return assignTo(c.*member, v, f.accepts); }, f.member))
    return true;
  error = keyText(f.key) + ": expected " + std::string(f.expected) + ", got " + show(v);
  return false;
}

std::string unknownKey(std::string_view key) {
  std::string known;
  for (const Field &f : kFields)
    known.append(known.empty() ? "" : ", ").append(f.key);
  return keyText(key) + ": unknown setting (known: " + known + ")";
}

// nlohmann's what() starts with "[json.exception.parse_error.101] " and quotes the bytes it
// stopped at, which may be binary.
std::string parseErrorText(const json::exception &e) {
  std::string what = e.what();
  if (what.rfind("[", 0) == 0 && what.find("] ") != std::string::npos)
    what = what.substr(what.find("] ") + 2);
  for (char &ch : what)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) == 0x7f)
      ch = '?';
  return what;
}

} // namespace

bool parseTrainConfig(const json &j, TrainConfig &out, std::string &error) {
  if (!j.is_object()) {
    error = "expected a JSON object of settings, got " + show(j);
    return false;
  }
  TrainConfig c;
  for (const auto &[key, value] : j.items()) {
    const Field *f = findField(key);
    if (!f) {
      error = unknownKey(key);
      return false;
    }
    if (!assign(c, *f, value, error))
      return false;
  }
  if (!validateTrainConfig(c, error))
    return false;
  out = std::move(c);
  return true;
}

bool loadTrainConfig(const std::string &path, TrainConfig &out, std::string &error) {
  std::vector<char> bytes;
  if (!rt::readWholeFile(path, bytes, error))
    return false;
  std::set<std::string> seen;
  std::string duplicate;
  json j;
  try {
    j = json::parse(
        bytes.begin(), bytes.end(),
        [&](int depth, json::parse_event_t event, json &parsed) {
          if (depth == 1 && event == json::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second &&
              duplicate.empty())
            duplicate = parsed.get<std::string>();
          return true;
        },
        /*allow_exceptions=*/true);
  } catch (const json::exception &e) {
    error = path + ": not valid JSON: " + parseErrorText(e);
    return false;
  }
  if (!duplicate.empty()) {
    error = path + ": " + keyText(duplicate) + " is given twice";
    return false;
  }
  if (!parseTrainConfig(j, out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool applyOverride(TrainConfig &c, std::string_view key, std::string_view value, std::string &error) {
  const Field *f = findField(key);
  if (!f) {
    error = unknownKey(key);
    return false;
  }
  const bool verbatim = std::holds_alternative<std::string TrainConfig::*>(f->member);
  json v = verbatim ? json() : json::parse(value, nullptr, /*allow_exceptions=*/false);
  // Text that is not JSON becomes a string, so that the message shows it: got "x".
  if (verbatim || v.is_discarded())
    v = std::string(value);
  TrainConfig changed = c;
  if (!assign(changed, *f, v, error))
    return false;
  c = std::move(changed);
  return true;
}

bool validateTrainConfig(const TrainConfig &c, std::string &error) {
  if (c.warmupEpochs > static_cast<double>(c.epochs)) {
    error = "\"warmup_epochs\": " + show(c.warmupEpochs) + " is more than \"epochs\": " + std::to_string(c.epochs) +
            " (the learning rate would never reach base_lr)";
    return false;
  }
  int64_t total;
  if (__builtin_mul_overflow(c.epochs, stepsPerEpoch(c), &total)) {
    error = "\"epochs\": " + std::to_string(c.epochs) + " epochs of " + std::to_string(stepsPerEpoch(c)) +
            " steps is more steps than an int64_t counts";
    return false;
  }
  return true;
}

nlohmann::ordered_json toJson(const TrainConfig &c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const Field &f : kFields)
    std::visit([&](auto member) { j[std::string(f.key)] = c.*member; }, f.member);
  return j;
}

int64_t stepsPerEpoch(const TrainConfig &c) {
  // Not (a + b - 1) / b, which overflows for an epoch size near INT64_MAX.
  return c.epochSize / c.batchSize + (c.epochSize % c.batchSize != 0);
}

// The paper (section 4.1): "The initial learning rate is set to 0.01 and divided by 10 every
// 10 epochs. We use the first 10 epochs for warm-up [12] in our distributed training.
// Training is done in 45 epochs." [12] is Goyal et al. 2017, whose gradual warmup starts at
// the one-worker rate (target / k for k workers), adds a constant every iteration until it
// reaches the target after 5 epochs, then hands over to the step schedule. The paper gives
// neither the ramp's start nor how the ramp and the steps combine.
//
// Chosen: during the first W = ceil(warmupEpochs * stepsPerEpoch) steps the rate is
// baseLr * (step + 1) / W: there is no worker count to divide by here, so the ramp starts at
// baseLr / W (the first step already moves) and its last step is at baseLr exactly. After
// that, baseLr * lrDecay^floor(e / lrStepEpochs), where e counts whole epochs since the end of
// the warmup. This is torchvision's video reference reading of the sentence (warmup for 10
// epochs, then /10 at epochs 20, 30 and 40): with the paper's numbers 0.01 holds for epochs
// 10-19. Counting the decays from step 0 instead (the VMZ trainer, which has no warmup) would
// reach 0.01 for a single step and drop to 0.001 at epoch 10, wasting the warmup.
double learningRate(const TrainConfig &c, int64_t step, int64_t stepsPerEpoch) {
  const double warmupSteps = std::ceil(c.warmupEpochs * static_cast<double>(stepsPerEpoch));
  if (static_cast<double>(step) < warmupSteps)
    return c.baseLr * static_cast<double>(step + 1) / warmupSteps;
  const int64_t epochsAfterWarmup = (step - static_cast<int64_t>(warmupSteps)) / stepsPerEpoch;
  return c.baseLr * std::pow(c.lrDecay, static_cast<double>(epochsAfterWarmup / c.lrStepEpochs));
}

} // namespace vidnet::train
