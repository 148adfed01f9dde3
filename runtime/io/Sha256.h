// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex: the runtime checks a bundle's files
// against the digests vidc recorded, without linking a crypto library.
#pragma once

#include <cstddef>
#include <string>

namespace vidnet::rt {

std::string sha256Hex(const void *data, size_t size);

} // namespace vidnet::rt
