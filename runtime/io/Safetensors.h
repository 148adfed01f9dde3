// safetensors files (the Hugging Face weight format): read and write named tensors plus string
// metadata, validated as strictly as the reference implementation validates them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vidnet::rt {

struct SafeTensor {
  // "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"; also read and written:
  // "U64", "U32", "U16", "F8_E4M3", "F8_E5M2".
  std::string dtype;
  std::vector<int64_t> shape;  // row-major; empty for a scalar
  std::vector<char> data;      // raw little-endian bytes
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;  // the header's "__metadata__" (string -> string)
  std::map<std::string, SafeTensor> tensors;
};

// Bytes per element of a safetensors dtype name; 0 if unknown.
size_t safetensorsDtypeSize(const std::string &dtype);

// Reads and validates the whole file: header length and JSON, every entry's dtype, shape and
// data_offsets, and that the tensors cover the data section exactly once, without holes.
// `out` is only changed on success. Thread-safe (no shared state).
bool readSafetensors(const std::string &path, SafetensorsFile &out, std::string &error);

// Writes tensors in name order with contiguous offsets, "__metadata__" first (omitted when
// empty), and the header padded with spaces so the data section starts at a multiple of 8.
// Atomic: temp file + rename (see writeFileAtomically).
bool writeSafetensors(const std::string &path, const SafetensorsFile &file, std::string &error);

} // namespace vidnet::rt
