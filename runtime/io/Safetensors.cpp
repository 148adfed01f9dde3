// safetensors reader and writer: the u64 header length, the JSON header, and the data section.
#include "runtime/io/Safetensors.h"
#include "runtime/io/ShapeText.h"

#include "runtime/io/AtomicFile.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <tuple>

namespace vidnet::rt {

// Tensor bytes are handed over as they are stored, little-endian.
static_assert(std::endian::native == std::endian::little, "the safetensors code assumes a little-endian host");

namespace {

using nlohmann::json;

// The reference implementation's limit: a header this large is an attack or not our format.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
const char *const kMetadataKey = "__metadata__";

std::string offsetsText(uint64_t begin, uint64_t end) {
  std::string s = "[";
  s.append(std::to_string(begin)).append(", ").append(std::to_string(end)).append(")");
  return s;
}

// dtype size * product(shape), false on overflow (a corrupt or hostile header).
bool tensorBytes(const std::vector<int64_t> &shape, size_t dtypeSize, uint64_t &bytes) {
  bytes = dtypeSize;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
      return false;
  return true;
}

// What a JSON value is, for "... is a string, not an integer" messages.
std::string describe(const json &v) {
  if (v.is_number_float())
    return "the number " + v.dump();
  if (v.is_number_integer())
    return "the integer " + v.dump();
  if (v.is_null())
    return "null";
  return std::string(v.is_array() || v.is_object() ? "an " : "a ") + v.type_name();
}

// json::dump throws on invalid UTF-8; the caller turns false into a message naming the string.
bool quoteJson(const std::string &s, std::string &out) {
  try {
    out = json(s).dump();
    return true;
  } catch (const json::exception &) {
    return false;
  }
}

struct Entry {
  std::string name;
  SafeTensor tensor;
  uint64_t begin = 0, end = 0;
};

// One header entry into `e`; false with a message (without the path) otherwise.
bool parseEntry(const std::string &name, const json &v, Entry &e, std::string &why) {
  const std::string where = "tensor '" + name + "': ";
  if (!v.is_object()) {
    why = where + "entry is " + describe(v) + ", not an object with dtype, shape and data_offsets";
    return false;
  }
  for (const char *key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) {
      why = where + "no '" + key + "'";
      return false;
    }
  const json &dtype = v["dtype"], &shape = v["shape"], &offsets = v["data_offsets"];
  if (!dtype.is_string()) {
    why = where + "'dtype' is " + describe(dtype) + ", not a string";
    return false;
  }
  e.name = name;
  e.tensor.dtype = dtype.get<std::string>();
  const size_t size = safetensorsDtypeSize(e.tensor.dtype);
  if (size == 0) {
    why = where + "unknown dtype '" + e.tensor.dtype +
          "' (known: F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)";
    return false;
  }
  if (!shape.is_array()) {
    why = where + "'shape' is " + describe(shape) + ", not an array of integers";
    return false;
  }
  for (const json &d : shape) {
    if (d.is_number_integer() && !d.is_number_unsigned()) {
      why = where + "negative dimension " + d.dump() + " in shape " + shape.dump();
      return false;
    }
    if (!d.is_number_unsigned()) {
      why = where + "shape " + shape.dump() + " holds " + describe(d) + ", not a non-negative integer";
      return false;
    }
    if (d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      why = where + "dimension " + d.dump() + " in shape " + shape.dump() + " is too large";
      return false;
    }
    e.tensor.shape.push_back(d.get<int64_t>());
  }
  uint64_t needed = 0;
  if (!tensorBytes(e.tensor.shape, size, needed)) {
    why = where + e.tensor.dtype + " " + shapeText(e.tensor.shape) + " has more bytes than fit in 64 bits";
    return false;
  }
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    why = where + "'data_offsets' is " + offsets.dump() + ", not two non-negative integers [begin, end]";
    return false;
  }
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  if (e.begin > e.end) {
    why = where + "data_offsets " + offsetsText(e.begin, e.end) + " end before they begin";
    return false;
  }
  if (e.end - e.begin != needed) {
    why = where + "data_offsets " + offsetsText(e.begin, e.end) + " hold " + std::to_string(e.end - e.begin) +
          " bytes but " + e.tensor.dtype + " " + shapeText(e.tensor.shape) + " needs " + std::to_string(needed);
    return false;
  }
  return true;
}

uint64_t readU64LittleEndian(const char *p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

} // namespace

size_t safetensorsDtypeSize(const std::string &dtype) {
  static const std::pair<const char *, size_t> kSizes[] = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U64", 8}, {"U32", 4},  {"U16", 2},     {"U8", 1},      {"BOOL", 1}};
  for (const auto &[name, size] : kSizes)
    if (dtype == name)
      return size;
  return 0;
}

bool readSafetensors(const std::string &path, SafetensorsFile &out, std::string &error) {
  std::vector<char> bytes;
  if (!readWholeFile(path, bytes, error))
    return false;
  auto fail = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  if (bytes.size() < 8)
    return fail("file is " + std::to_string(bytes.size()) +
                " bytes, shorter than the 8-byte header length a .safetensors file starts with");
  const uint64_t headerLen = readU64LittleEndian(bytes.data());
  if (headerLen > kMaxHeaderBytes)
    return fail("header length " + std::to_string(headerLen) + " exceeds the " + std::to_string(kMaxHeaderBytes) +
                "-byte limit (not a .safetensors file?)");
  if (headerLen > bytes.size() - 8)
    return fail("header length " + std::to_string(headerLen) + " is larger than the " +
                std::to_string(bytes.size() - 8) + " bytes after it (truncated, or not a .safetensors file)");
  const std::string_view headerText(bytes.data() + 8, headerLen);

  // nlohmann::json keeps the last of two equal keys; a tensor named twice is corrupt, so
  // watch the top-level keys as they are parsed.
  std::set<std::string> names;
  std::string duplicate;
  json header;
  try {
    header = json::parse(
        headerText.begin(), headerText.end(),
        [&](int depth, json::parse_event_t event, json &parsed) {
          if (depth == 1 && event == json::parse_event_t::key && parsed.is_string() &&
              !names.insert(parsed.get<std::string>()).second && duplicate.empty())
            duplicate = parsed.get<std::string>();
          return true;
        },
        /*allow_exceptions=*/true);
  } catch (const json::exception &e) {
    std::string what = e.what();
    if (what.compare(0, 1, "[") == 0 && what.find("] ") != std::string::npos)
      what = what.substr(what.find("] ") + 2);  // drop nlohmann's "[json.exception.parse_error.101] "
    // nlohmann quotes the offending bytes, which may be binary or broken UTF-8.
    for (char &c : what)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        c = '?';
    return fail("header is not valid JSON: " + what);
  }
  if (!header.is_object())
    return fail("header is " + describe(header) + ", not a JSON object");
  if (!duplicate.empty())
    return fail("'" + duplicate + "' appears twice in the header");

  SafetensorsFile result;
  std::vector<Entry> entries;
  for (const auto &[name, value] : header.items()) {
    if (name == kMetadataKey) {
      if (!value.is_object())
        return fail(std::string(kMetadataKey) + " is " + describe(value) + ", not an object of strings");
      for (const auto &[key, text] : value.items()) {
        if (!text.is_string())
          return fail(std::string(kMetadataKey) + " must map strings to strings, but '" + key + "' is " +
                      describe(text));
        result.metadata[key] = text.get<std::string>();
      }
      continue;
    }
    Entry e;
    std::string why;
    if (!parseEntry(name, value, e, why))
      return fail(why);
    entries.push_back(std::move(e));
  }

  const uint64_t dataSize = bytes.size() - 8 - headerLen;
  const Entry *last = nullptr;
  for (const Entry &e : entries)
    if (!last || e.end > last->end)
      last = &e;
  if (last && last->end > dataSize)
    return fail("truncated: tensor '" + last->name + "' ends at byte " + std::to_string(last->end) +
                " of the data section, but the file's data section has only " + std::to_string(dataSize) + " bytes");

  // The format requires every byte of the data section to belong to exactly one tensor, so
  // that a file cannot hide data and tensors cannot alias.
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;
  const Entry *previous = nullptr;
  for (const Entry &e : entries) {
    if (e.begin > covered)
      return fail("bytes " + offsetsText(covered, e.begin) + " of the data section belong to no tensor (a hole before tensor '" +
                  e.name + "' at data_offsets " + offsetsText(e.begin, e.end) + ")");
    if (e.begin < covered)
      return fail("tensor '" + e.name + "' at data_offsets " + offsetsText(e.begin, e.end) + " overlaps tensor '" +
                  previous->name + "' at data_offsets " + offsetsText(previous->begin, previous->end));
    covered = e.end;
    previous = &e;
  }
  if (covered < dataSize)
    return fail("bytes " + offsetsText(covered, dataSize) + " at the end of the data section belong to no tensor (" +
                std::to_string(dataSize - covered) + (dataSize - covered == 1 ? " trailing byte)" : " trailing bytes)"));

  const char *data = bytes.data() + 8 + headerLen;
  for (Entry &e : entries) {
    e.tensor.data.assign(data + e.begin, data + e.end);
    result.tensors.emplace(e.name, std::move(e.tensor));
  }
  out = std::move(result);
  return true;
}

bool writeSafetensors(const std::string &path, const SafetensorsFile &file, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  // Same layout as the reference writer, compact JSON with dtype, shape, data_offsets in that order.
  std::string header = "{";
  if (!file.metadata.empty()) {
    header += "\"" + std::string(kMetadataKey) + "\":{";
    for (const auto &[key, value] : file.metadata) {
      std::string k, v;
      if (!quoteJson(key, k) || !quoteJson(value, v))
        return fail(std::string(kMetadataKey) + " entry '" + key + "' is not valid UTF-8");
      header.append(header.back() == '{' ? "" : ",").append(k).append(":").append(v);
    }
    header += "}";
  }
  uint64_t offset = 0;
  std::vector<std::pair<const void *, size_t>> chunks(2);
  for (const auto &[name, t] : file.tensors) {
    const std::string where = "tensor '" + name + "': ";
    if (name == kMetadataKey)
      return fail(where + "the name is reserved for the metadata");
    std::string quoted;
    if (!quoteJson(name, quoted))
      return fail(where + "the name is not valid UTF-8");
    const size_t size = safetensorsDtypeSize(t.dtype);
    if (size == 0)
      return fail(where + "unknown dtype '" + t.dtype + "'");
    uint64_t needed = 0;
    if (!tensorBytes(t.shape, size, needed))
      return fail(where + "shape " + shapeText(t.shape) + " has a negative dimension or too many elements");
    if (needed != t.data.size())
      return fail(where + "data has " + std::to_string(t.data.size()) + " bytes but " + t.dtype + " " +
                  shapeText(t.shape) + " needs " + std::to_string(needed));
    std::string shape = "[";
    for (size_t i = 0; i < t.shape.size(); ++i)
      shape.append(i ? "," : "").append(std::to_string(t.shape[i]));
    header.append(header.back() == '{' ? "" : ",");
    header += quoted + ":{\"dtype\":\"" + t.dtype + "\",\"shape\":" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + needed) + "]}";
    offset += needed;
    chunks.emplace_back(t.data.data(), t.data.size());
  }
  header += "}";
  // Readers may map the file and use the data in place, so start it 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  if (header.size() > kMaxHeaderBytes)
    return fail("header would be " + std::to_string(header.size()) + " bytes, over the " +
                std::to_string(kMaxHeaderBytes) + "-byte limit readers enforce");
  char length[8];
  for (size_t i = 0; i < 8; ++i)
    length[i] = static_cast<char>((static_cast<uint64_t>(header.size()) >> (8 * i)) & 0xff);
  chunks[0] = {length, sizeof length};
  chunks[1] = {header.data(), header.size()};
  return writeFileAtomically(path, chunks, error);
}

} // namespace vidnet::rt
