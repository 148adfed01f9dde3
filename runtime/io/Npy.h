// NumPy .npy files: read and write one C-order array of a plain numeric dtype, for exchanging
// tensors with Python (np.load / np.save) without linking Python or NumPy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::rt {

struct NpyArray {
  // The NumPy descr, normalized to its little-endian spelling: "<f4", "<f8", "<i8", "<i4",
  // "|u1", "|b1", ... ('=' becomes '<'; one-byte types always use '|').
  std::string dtype;
  std::vector<int64_t> shape;  // C order; empty for a 0-d (scalar) array
  std::vector<char> data;      // raw little-endian bytes, C order
  int64_t elements() const;
};

// Supported: b1, i1/i2/i4/i8, u1/u2/u4/u8, f2/f4/f8, c8/c16, little-endian or byte-order
// free. Rejected with a reason: big-endian, object, string, datetime and structured dtypes,
// Fortran order (unless it is the same layout as C order), truncated or overlong data.
// `out` is only changed on success. Thread-safe (no shared state).
bool readNpy(const std::string &path, NpyArray &out, std::string &error);

// Writes format version 1.0 (2.0 when the header needs more than 65535 bytes), C order,
// with the header exactly as np.save writes it (numpy 1.24), so files compare byte for byte.
// `dtype` is a descr as above ("=f4" and "f4" are accepted and written as "<f4"); `bytes`
// must be elements * itemsize. Atomic: temp file + rename (see writeFileAtomically).
bool writeNpy(const std::string &path, const std::string &dtype, const std::vector<int64_t> &shape,
              const void *data, size_t bytes, std::string &error);

// The bytes per element of a descr ("<f4" -> 4) and its normalized spelling; false and a
// reason ("big-endian ...", "unsupported dtype ...") when this module cannot handle it.
bool parseNpyDtype(const std::string &descr, std::string &normalized, size_t &itemSize, std::string &why);

// The array's values as float32 (from <f4 or <f8) or int64 (from <i8 or <i4); false when
// the dtype is another one (the caller names the file and the dtype).
bool npyAsFloat32(const NpyArray &a, std::vector<float> &out);
bool npyAsInt64(const NpyArray &a, std::vector<int64_t> &out);

} // namespace vidnet::rt
