// Strict, typed reading of JSON documents with the field path in every message.
#include "runtime/io/JsonReader.h"

#include <cstdint>

namespace vidnet::rt {

bool JsonReader::fail(const std::string &field, const std::string &problem) {
  if (error_.empty())
    error_ = (prefix_.empty() ? "" : prefix_ + ": ") + field + ": " + problem;
  return false;
}

std::string JsonReader::describe(const json &value) {
  // Never throws on broken UTF-8, and a huge value does not flood the message.
  constexpr size_t kMaxShown = 60;
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMaxShown)
    s = s.substr(0, kMaxShown) + "...";
  return s;
}

bool JsonReader::expected(const std::string &field, const std::string &what, const json &value) {
  return fail(field, "expected " + what + ", got " + describe(value));
}

const JsonReader::json *JsonReader::member(const json &object, const std::string &key, const std::string &path) {
  if (!object.is_object()) {
    fail(path.empty() ? "(top level)" : path, "expected an object");
    return nullptr;
  }
  auto it = object.find(key);
  if (it == object.end()) {
    fail(join(path, key), "missing");
    return nullptr;
  }
  return &*it;
}

bool JsonReader::string(const json &object, const std::string &key, const std::string &path, std::string &out) {
  const json *v = member(object, key, path);
  if (!v)
    return false;
  if (!v->is_string())
    return fail(join(path, key), "expected a string");
  out = v->get<std::string>();
  return true;
}

bool JsonReader::nonEmptyString(const json &object, const std::string &key, const std::string &path,
                                std::string &out) {
  const json *v = member(object, key, path);
  if (!v)
    return false;
  if (!v->is_string() || v->get_ref<const std::string &>().empty())
    return expected(join(path, key), "a non-empty string", *v);
  out = v->get<std::string>();
  return true;
}

bool JsonReader::boolean(const json &object, const std::string &key, const std::string &path, bool &out) {
  const json *v = member(object, key, path);
  if (!v)
    return false;
  if (!v->is_boolean())
    return expected(join(path, key), "true or false", *v);
  out = v->get<bool>();
  return true;
}

bool JsonReader::number(const json &object, const std::string &key, const std::string &path, double &out) {
  const json *v = member(object, key, path);
  if (!v)
    return false;
  if (!v->is_number())
    return fail(join(path, key), "expected a number");
  out = v->get<double>();
  return true;
}

bool JsonReader::integer(const json &object, const std::string &key, const std::string &path, int64_t &out,
                         int64_t min, int64_t max, const std::string &what) {
  const json *v = member(object, key, path);
  return v && integerValue(*v, join(path, key), out, min, max, what);
}

bool JsonReader::integerValue(const json &value, const std::string &field, int64_t &out, int64_t min, int64_t max,
                              const std::string &what) {
  // A value above INT64_MAX is stored unsigned and must not wrap into range.
  bool isInt64 = value.is_number_integer() &&
                 !(value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX));
  if (isInt64)
    out = value.get<int64_t>();
  if (isInt64 && out >= min && out <= max)
    return true;
  if (!what.empty())
    return expected(field, what, value);
  if (!isInt64)
    return fail(field, "expected an integer");
  return fail(field, std::to_string(out) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) +
                         "]");
}

bool JsonReader::dims(const json &object, const std::string &key, const std::string &path, std::vector<int64_t> &out,
                      size_t maxRank) {
  const json *v = member(object, key, path);
  if (!v)
    return false;
  std::string field = join(path, key);
  if (!v->is_array() || v->size() > maxRank)
    return fail(field, "expected an array of at most " + std::to_string(maxRank) + " sizes");
  out.clear();
  int64_t product = 1;
  for (size_t i = 0; i < v->size(); ++i) {
    int64_t d = 0;
    if (!integerValue((*v)[i], field + "[" + std::to_string(i) + "]", d, 1, kMaxElements))
      return false;
    if (__builtin_mul_overflow(product, d, &product) || product > kMaxElements)
      return fail(field, "too many elements");
    out.push_back(d);
  }
  return true;
}

} // namespace vidnet::rt
