// The training loop: batches, schedule, compiled steps, log, checkpoints, resumption.
#include "runtime/train/Trainer.h"

#include "runtime/core/Random.h"
#include "runtime/io/AtomicFile.h"
#include "runtime/io/ClipArrays.h"
#include "runtime/train/CurvePlot.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

namespace fs = std::filesystem;

namespace vidnet::train {
namespace {

constexpr const char *kStateFormat = "vidnet-trainer-state";

std::string checkpointName(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

bool writeText(const std::string &path, const std::string &text, std::string &error) {
  return rt::writeFileAtomically(path, {{text.data(), text.size()}}, error);
}

bool readJson(const std::string &path, nlohmann::json &out, std::string &error) {
  std::vector<char> bytes;
  if (!rt::readWholeFile(path, bytes, error))
    return false;
  out = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    error = path + ": not a JSON object";
    return false;
  }
  return true;
}

std::string clock(double seconds) {
  long long s = std::isfinite(seconds) ? static_cast<long long>(seconds + 0.5) : 0;
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return text;
}

// The settings a resumed run must share with the original for its batches to be the same.
bool sameRun(const TrainConfig &a, const TrainConfig &b, std::string &key) {
  nlohmann::ordered_json ja = toJson(a), jb = toJson(b);
  for (const char *k : {"epoch_size", "batch_size", "seed"})
    if (ja[k] != jb[k]) {
      key = k;
      return false;
    }
  return true;
}

} // namespace

bool loadClipSet(const std::string &clipsPath, const std::string &labelsPath, const rt::Manifest &m, ClipSet &out,
                 std::string &error) {
  ClipSet set;
  if (!rt::readClipsNpy(clipsPath, {m.channels, m.frames, m.height, m.width}, set.clips, set.count, error) ||
      !rt::readLabelsNpy(labelsPath, set.count, set.labels, error))
    return false;
  for (size_t i = 0; i < set.labels.size(); ++i)
    if (set.labels[i] < 0 || set.labels[i] >= m.classes) {
      error = labelsPath + ": label " + std::to_string(set.labels[i]) + " of clip " + std::to_string(i) +
              " is outside [0, " + std::to_string(m.classes) + ") (the bundle has " + std::to_string(m.classes) +
              " classes)";
      return false;
    }
  set.clipElements = m.channels * m.frames * m.height * m.width;
  out = std::move(set);
  return true;
}

BatchSampler::BatchSampler(const TrainConfig &config, int64_t clipCount)
    : config_(config), clipCount_(clipCount), stepsPerEpoch_(stepsPerEpoch(config)) {}

std::vector<int64_t> BatchSampler::batch(int64_t step) {
  const int64_t epoch = step / stepsPerEpoch_;
  std::vector<int64_t> indices;
  for (int64_t j = 0; j < config_.batchSize; ++j) {
    int64_t position = (step % stepsPerEpoch_) * config_.batchSize + j;  // within the epoch
    int64_t pass = position / clipCount_;
    if (epoch != epoch_ || pass != pass_) {
      order_.resize(static_cast<size_t>(clipCount_));
      std::iota(order_.begin(), order_.end(), 0);
      rt::Random rng(config_.seed * 0x9E3779B97F4A7C15ULL ^ (static_cast<uint64_t>(epoch) << 20) ^
                     static_cast<uint64_t>(pass));
      for (int64_t i = clipCount_ - 1; i > 0; --i)
        std::swap(order_[static_cast<size_t>(i)], order_[rng.next() % static_cast<uint64_t>(i + 1)]);
      epoch_ = epoch;
      pass_ = pass;
    }
    indices.push_back(order_[static_cast<size_t>(position % clipCount_)]);
  }
  return indices;
}

bool runTraining(rt::Model &model, BatchSource &data, const TrainRun &run, std::string &error) {
  const TrainConfig &c = run.config;
  const rt::Manifest &m = model.bundle().manifest();
  std::ostream &out = *run.progress;
  if (m.trainStepSymbol.empty()) {
    error = model.bundle().dir() + ": built with --forward-only (no train_step); rebuild it with vidc build";
    return false;
  }
  if (c.batchSize != m.trainBatch) {
    error = "batch_size is " + std::to_string(c.batchSize) + " but the bundle's train step takes " +
            std::to_string(m.trainBatch) + " clips (vidc build --batch " + std::to_string(c.batchSize) +
            ", or --set batch_size=" + std::to_string(m.trainBatch) + ")";
    return false;
  }
  const fs::path dir = c.outDir, ckpt = dir / "ckpt";
  const std::string logPath = (dir / "log.jsonl").string(), lastPath = (ckpt / "last.json").string();
  std::error_code ec;
  fs::create_directories(ckpt, ec);
  if (ec) {
    error = "cannot create " + ckpt.string() + ": " + ec.message();
    return false;
  }
  const int64_t spe = stepsPerEpoch(c), total = c.epochs * spe;

  int64_t step = 0;
  std::vector<CurvePoint> points;
  std::string keptLog;
  if (run.resume) {
    nlohmann::json last, state;
    if (!readJson(lastPath, last, error))
      return false;
    if (!last.contains("state") || !last["state"].is_string()) {
      error = lastPath + ": no checkpoint named in it";
      return false;
    }
    if (!readJson((ckpt / last["state"].get<std::string>()).string(), state, error))
      return false;
    TrainConfig saved;
    std::string key;
    if (state.value("format", "") != kStateFormat || !state.contains("config") ||
        !parseTrainConfig(state["config"], saved, error)) {
      error = "cannot resume from " + lastPath + ": " + (error.empty() ? "not a trainer state" : error);
      return false;
    }
    if (!sameRun(saved, c, key)) {
      error = "cannot resume: " + key + " differs from the checkpoint's (" + toJson(saved)[key].dump() + ")";
      return false;
    }
    const std::string weightsPath = (ckpt / state.value("weights", "")).string();
    step = state.contains("step") && state["step"].is_number_integer() ? state["step"].get<int64_t>() : -1;
    if (step < 0) {
      error = "bad step in the trainer state";
      return false;
    }
    if (!model.loadWeights(weightsPath, error))
      return false;
    // The log keeps the steps the checkpoint has seen; later lines came from the lost work.
    std::ifstream log(logPath);
    for (std::string line; std::getline(log, line);) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("step") || !j["step"].is_number_integer() ||
          j["step"].get<int64_t>() >= step)
        continue;
      keptLog += line + "\n";
      points.push_back({j["step"].get<int64_t>(), j.value("loss", NAN), j.value("clip_acc", NAN)});
    }
    if (!writeText(logPath, keptLog, error))
      return false;
    out << "vidrun: resuming at step " << step << " (epoch " << step / spe + 1 << ") from " << weightsPath << "\n";
  } else if (fs::exists(lastPath)) {
    error = dir.string() + " already holds a run (" + lastPath + "); resume it with --resume or set out_dir";
    return false;
  } else if (!writeText(logPath, "", error)) {
    return false;
  }

  std::ofstream log(logPath, std::ios::app);
  auto saveCheckpoint = [&](int64_t at) {
    std::string name = checkpointName(at);
    if (!model.saveWeights((ckpt / (name + ".safetensors")).string(), error, /*withMomentum=*/true))
      return false;
    nlohmann::ordered_json state;
    state["format"] = kStateFormat;
    state["version"] = 1;
    state["step"] = at;
    state["epoch"] = at / spe;
    state["steps_per_epoch"] = spe;
    // The sampler's whole state: batches are a pure function of (seed, step).
    state["sampler"] = {{"kind", "per-epoch Fisher-Yates over xoshiro256**"}, {"seed", c.seed}, {"step", at}};
    state["model"] = m.model;
    state["spec_sha256"] = m.specSha256;
    state["weights"] = name + ".safetensors";
    state["config"] = toJson(c);
    if (!writeText((ckpt / (name + ".json")).string(), state.dump(2) + "\n", error))
      return false;
    nlohmann::ordered_json last = {{"step", at}, {"state", name + ".json"}, {"weights", name + ".safetensors"}};
    return writeText(lastPath, last.dump(2) + "\n", error);
  };

  std::vector<float> clips(static_cast<size_t>(c.batchSize * m.channels * m.frames * m.height * m.width));
  std::vector<int64_t> labels(static_cast<size_t>(c.batchSize));
  std::vector<float> logits(static_cast<size_t>(c.batchSize * m.classes));
  const int64_t firstStep = step;
  auto start = std::chrono::steady_clock::now();
  for (; step < total; ++step) {
    if (!data.batch(step, clips.data(), labels.data(), error))
      return false;
    double lr = learningRate(c, step, spe);
    float loss = 0;
    rt::SgdHyper hyper{static_cast<float>(lr), static_cast<float>(c.momentum), static_cast<float>(c.weightDecay)};
    if (!model.trainStep(clips.data(), labels.data(), hyper, loss, logits.data(), error))
      return false;
    if (!std::isfinite(loss)) {
      error = "the loss is " + std::to_string(loss) + " at step " + std::to_string(step) + " (lr " +
              std::to_string(lr) + "); lower base_lr. The last checkpoint is intact: " + lastPath;
      return false;
    }
    int64_t correct = 0;
    for (int64_t j = 0; j < c.batchSize; ++j) {
      const float *row = logits.data() + j * m.classes;
      correct += std::max_element(row, row + m.classes) - row == labels[static_cast<size_t>(j)];
    }
    double accuracy = static_cast<double>(correct) / static_cast<double>(c.batchSize);
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double done = static_cast<double>(step + 1 - firstStep);
    double clipsPerSecond = done * static_cast<double>(c.batchSize) / elapsed;
    nlohmann::ordered_json line = {{"step", step},          {"epoch", step / spe}, {"loss", loss},
                                   {"clip_acc", accuracy},  {"lr", lr},            {"clips_per_s", clipsPerSecond}};
    log << line.dump() << '\n' << std::flush;
    points.push_back({step, loss, accuracy});
    if ((c.logEvery > 0 && (step + 1) % c.logEvery == 0) || step + 1 == total) {
      char text[256];
      std::snprintf(text, sizeof text,
                    "step %lld/%lld  epoch %lld/%lld  loss %.4f  clip@1 %.3f  lr %.3g  %.1f clips/s  ETA %s\n",
                    static_cast<long long>(step + 1), static_cast<long long>(total),
                    static_cast<long long>(step / spe + 1), static_cast<long long>(c.epochs), loss, accuracy, lr,
                    clipsPerSecond, clock(elapsed / done * static_cast<double>(total - step - 1)).c_str());
      out << text << std::flush;
    }
    if ((c.checkpointEvery > 0 && (step + 1) % c.checkpointEvery == 0) || step + 1 == total)
      if (!saveCheckpoint(step + 1))
        return false;
  }
  if (!writeCurvesSvg((dir / "curves.svg").string(), points, m.model + " training", error))
    return false;
  out << "vidrun: trained " << m.model << " for " << total << " steps; checkpoint " << (ckpt / checkpointName(total)).string()
      << ".safetensors, log " << logPath << ", curves " << (dir / "curves.svg").string() << "\n";
  if (std::string summary = data.summary(); !summary.empty())
    out << "vidrun: " << summary << "\n";
  return true;
}

} // namespace vidnet::train
