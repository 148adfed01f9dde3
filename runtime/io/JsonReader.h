// Strict, typed reading of JSON documents with the field path in every message
// ("cuda.entry_points.forward.launches[3].grid: expected 3 positive integers"): the one reader
// of the manifest, its CUDA section and `vidc kernels`.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::rt {

class JsonReader {
public:
  using json = nlohmann::json;
  static constexpr int64_t kMaxElements = int64_t(1) << 40;

  // Keeps the first problem in `error` as "PREFIX: FIELD: PROBLEM" (without a prefix when it is empty).
  JsonReader(std::string prefix, std::string &error) : prefix_(std::move(prefix)), error_(error) {}

  // Records the problem with `field` (unless one is recorded already); always false.
  bool fail(const std::string &field, const std::string &problem);
  // "FIELD: expected WHAT, got VALUE".
  bool expected(const std::string &field, const std::string &what, const json &value);

  // object[key], or null with "PATH.KEY: missing" (or "PATH: expected an object").
  const json *member(const json &object, const std::string &key, const std::string &path);
  bool string(const json &object, const std::string &key, const std::string &path, std::string &out);
  bool nonEmptyString(const json &object, const std::string &key, const std::string &path, std::string &out);
  bool boolean(const json &object, const std::string &key, const std::string &path, bool &out);
  bool number(const json &object, const std::string &key, const std::string &path, double &out);
  // An integer in [min, max]; out of range says "N is out of range [MIN, MAX]", or, with
  // `what`, "expected WHAT, got N".
  bool integer(const json &object, const std::string &key, const std::string &path, int64_t &out, int64_t min = 0,
               int64_t max = kMaxElements, const std::string &what = "");
  bool integerValue(const json &value, const std::string &field, int64_t &out, int64_t min, int64_t max,
                    const std::string &what = "");
  // An array of at most maxRank positive sizes whose product stays below kMaxElements.
  bool dims(const json &object, const std::string &key, const std::string &path, std::vector<int64_t> &out,
            size_t maxRank = 8);
  // A non-empty array: each element is read by read(element, its field path, out[i]).
  template <typename T, typename Read>
  bool array(const json &object, const std::string &key, const std::string &path, std::vector<T> &out, Read read) {
    const json *v = member(object, key, path);
    if (!v)
      return false;
    std::string field = join(path, key);
    if (!v->is_array() || v->empty())
      return expected(field, "a non-empty array", *v);
    out.resize(v->size());
    for (size_t i = 0; i < v->size(); ++i)
      if (!read((*v)[i], field + "[" + std::to_string(i) + "]", out[i]))
        return false;
    return true;
  }

  static std::string join(const std::string &path, const std::string &key) {
    return path.empty() ? key : path + "." + key;
  }
  // A rejected value as JSON text, cut at 60 characters: 1.5, "sm90", [1, 2], ...
  static std::string describe(const json &value);

private:
  std::string prefix_;
  std::string &error_;
};

} // namespace vidnet::rt
