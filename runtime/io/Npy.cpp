// NumPy .npy reader and writer: the magic, the versioned preamble and the Python-literal header dict.
#include "runtime/io/Npy.h"
#include "runtime/io/ShapeText.h"

#include "runtime/io/AtomicFile.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace vidnet::rt {

// '=' (native) is written as '<' and data is handed over as is, which is only right here.
static_assert(std::endian::native == std::endian::little, "the .npy code assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
// np.save aligns the data to 64 bytes (numpy >= 1.14; older files used 16, which we accept).
constexpr size_t kAlign = 64;
// np.save pads the header so that the first dimension can grow to this many digits in place.
constexpr size_t kGrowthAxisMaxDigits = 21;

std::string pythonTuple(const std::vector<int64_t> &shape) {
  // Python's repr: (), (5,), (2, 3).
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s.append(i ? ", " : "").append(std::to_string(shape[i]));
  return s.append(shape.size() == 1 ? ",)" : ")");
}

// elements * itemSize, or nullopt when it does not fit in int64 (a corrupt or hostile header).
std::optional<int64_t> byteSize(const std::vector<int64_t> &shape, size_t itemSize) {
  int64_t n = static_cast<int64_t>(itemSize);
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return std::nullopt;
  return n;
}

// A header that is long or binary garbage should not flood the message.
std::string quoteHeader(std::string_view header) {
  while (!header.empty() && (header.back() == ' ' || header.back() == '\n'))
    header.remove_suffix(1);
  std::string s;
  for (char c : header.substr(0, 160))
    s += (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '?' : c;
  if (header.size() > 160)
    s += "...";
  return "\"" + s + "\"";
}

// The header is the repr() of a dict; only the subset np.save produces is parsed: string
// keys, string values, True/False and tuples of integers, with any spacing and key order.
// Anything else (a list for a structured dtype, a nested dict) is recognized well enough to
// say what it is and then rejected.
struct PyValue {
  enum Kind { String, Bool, Tuple, List, Other } kind = Other;
  std::string text;  // String: the contents; List and Other: the raw text, for messages
  bool flag = false;
  std::vector<int64_t> ints;
};

class HeaderParser {
public:
  explicit HeaderParser(std::string_view s) : s_(s) {}

  // Fills descr, fortranOrder and shape; false with `why` on anything np.save would not write.
  bool parse(PyValue &descr, PyValue &fortranOrder, PyValue &shape, std::string &why) {
    bool haveDescr = false, haveFortran = false, haveShape = false;
    skipSpace();
    if (!eat('{'))
      return fail("it does not start with '{'", why);
    while (true) {
      skipSpace();
      if (eat('}'))
        break;
      std::string key;
      if (!parseString(key, why))
        return fail("expected a quoted key", why);
      bool *seen = key == "descr" ? &haveDescr : key == "fortran_order" ? &haveFortran : key == "shape" ? &haveShape : nullptr;
      if (!seen)
        return fail("unexpected key '" + key + "' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')", why);
      if (*seen)
        return fail("key '" + key + "' appears twice", why);
      *seen = true;
      skipSpace();
      if (!eat(':'))
        return fail("expected ':' after key '" + key + "'", why);
      skipSpace();
      PyValue value;
      if (!parseValue(value, why))
        return false;
      (key == "descr" ? descr : key == "fortran_order" ? fortranOrder : shape) = std::move(value);
      skipSpace();
      if (eat(','))
        continue;
      if (eat('}'))
        break;
      return fail("expected ',' or '}' after the value of '" + key + "'", why);
    }
    while (pos_ < s_.size() && isSpace(s_[pos_]))
      ++pos_;
    if (pos_ != s_.size())
      return fail("unexpected text after the closing '}'", why);
    if (!haveDescr || !haveFortran || !haveShape)
      return fail(std::string("it has no '") + (!haveDescr ? "descr" : !haveFortran ? "fortran_order" : "shape") + "' key", why);
    return true;
  }

private:
  static bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void skipSpace() {
    while (pos_ < s_.size() && isSpace(s_[pos_]))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool startsWith(std::string_view word) const { return s_.substr(pos_, word.size()) == word; }
  bool fail(const std::string &what, std::string &why) const {
    if (why.empty())
      why = what + " (at byte " + std::to_string(pos_) + " of the header)";
    return false;
  }

  bool parseString(std::string &out, std::string &why) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      return false;
    char quote = s_[pos_++];
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size())
        ++pos_;
      out += s_[pos_++];
    }
    if (!eat(quote))
      return fail("unterminated string", why);
    return true;
  }

  bool parseInt(int64_t &out, std::string &why) {
    const bool negative = eat('-');
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
      ++pos_;
    const std::string digits(s_.substr(start, pos_ - start));
    if (digits.empty())
      return fail("expected an integer in 'shape'", why);
    eat('L');  // Python 2's long literal, seen in files written by old numpy
    if (negative)
      return fail("negative dimension -" + digits + " in 'shape'", why);
    uint64_t v = 0;
    for (char c : digits)
      if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, static_cast<uint64_t>(c - '0'), &v) ||
          v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return fail("dimension " + digits + " in 'shape' is too large", why);
    out = static_cast<int64_t>(v);
    return true;
  }

  bool parseValue(PyValue &v, std::string &why) {
    if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
      v.kind = PyValue::String;
      return parseString(v.text, why);
    }
    if (startsWith("True") || startsWith("False")) {
      v.kind = PyValue::Bool;
      v.flag = startsWith("True");
      pos_ += v.flag ? 4 : 5;
      return true;
    }
    if (eat('(')) {
      v.kind = PyValue::Tuple;
      skipSpace();
      if (eat(')'))
        return true;
      while (true) {
        int64_t d = 0;
        if (!parseInt(d, why))
          return false;
        v.ints.push_back(d);
        skipSpace();
        if (eat(',')) {
          skipSpace();
          if (eat(')'))
            return true;
          continue;
        }
        if (eat(')')) {
          // In Python "(5)" is the integer 5, not a tuple; np.save writes "(5,)".
          if (v.ints.size() == 1)
            return fail("'shape' is (" + std::to_string(d) + "), an integer, not a tuple; a 1-d shape is written (" +
                            std::to_string(d) + ",)",
                        why);
          return true;
        }
        return fail("expected ',' or ')' in 'shape'", why);
      }
    }
    // Anything else (a list of fields for a structured dtype, None, a number) is skipped up to
    // the next ',' or '}' outside brackets and quotes, so the caller can say which key is wrong.
    v.kind = pos_ < s_.size() && s_[pos_] == '[' ? PyValue::List : PyValue::Other;
    const size_t start = pos_;
    int depth = 0;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\'' || c == '"') {
        std::string ignored;
        if (!parseString(ignored, why))
          return false;
        continue;
      }
      if (depth == 0 && (c == ',' || c == '}'))
        break;
      if (c == '(' || c == '[' || c == '{')
        ++depth;
      else if ((c == ')' || c == ']' || c == '}') && --depth < 0)
        return fail("unbalanced '" + std::string(1, c) + "'", why);
      ++pos_;
    }
    v.text = std::string(s_.substr(start, pos_ - start));
    while (!v.text.empty() && isSpace(v.text.back()))
      v.text.pop_back();
    if (v.text.empty())
      return fail("expected a value", why);
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

uint64_t readLittleEndian(const char *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

} // namespace

bool npyAsFloat32(const NpyArray &a, std::vector<float> &out) {
  size_t n = static_cast<size_t>(a.elements());
  out.resize(n);
  if (a.dtype == "<f4") {
    std::memcpy(out.data(), a.data.data(), n * 4);
  } else if (a.dtype == "<f8") {
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, a.data.data() + 8 * i, 8);
      out[i] = static_cast<float>(d);
    }
  } else {
    return false;
  }
  return true;
}

bool npyAsInt64(const NpyArray &a, std::vector<int64_t> &out) {
  size_t n = static_cast<size_t>(a.elements());
  out.resize(n);
  if (a.dtype == "<i8") {
    std::memcpy(out.data(), a.data.data(), n * 8);
  } else if (a.dtype == "<i4") {
    for (size_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, a.data.data() + 4 * i, 4);
      out[i] = v;
    }
  } else {
    return false;
  }
  return true;
}

int64_t NpyArray::elements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool parseNpyDtype(const std::string &descr, std::string &normalized, size_t &itemSize, std::string &why) {
  std::string_view s = descr;
  char order = '=';
  if (!s.empty() && std::string_view("<>=|").find(s[0]) != std::string_view::npos) {
    order = s[0];
    s.remove_prefix(1);
  }
  const std::string supported = " (supported: b1, i1, i2, i4, i8, u1, u2, u4, u8, f2, f4, f8, c8, c16)";
  if (!s.empty() && s[0] == 'O') {
    why = "object arrays (descr '" + descr + "') are not supported: they hold pickled Python objects, not numbers";
    return false;
  }
  if (s.size() < 2 || s.size() > 3 || std::string_view("biufc").find(s[0]) == std::string_view::npos ||
      !std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    why = "unsupported dtype '" + descr + "'" + supported;
    return false;
  }
  const char kind = s[0];
  const size_t size = std::stoul(std::string(s.substr(1)));
  const bool valid = kind == 'b'   ? size == 1
                     : kind == 'f' ? (size == 2 || size == 4 || size == 8)
                     : kind == 'c' ? (size == 8 || size == 16)
                                   : (size == 1 || size == 2 || size == 4 || size == 8);
  if (!valid) {
    why = "unsupported dtype '" + descr + "'" + supported;
    return false;
  }
  if (order == '>' && size > 1) {
    why = "big-endian dtype '" + descr + "' is not supported; save it little-endian, e.g. a.astype('<" + kind +
          std::to_string(size) + "')";
    return false;
  }
  normalized = size == 1 ? "|" : "<";
  normalized += kind;
  normalized += std::to_string(size);
  itemSize = size;
  return true;
}

bool readNpy(const std::string &path, NpyArray &out, std::string &error) {
  std::vector<char> bytes;
  if (!readWholeFile(path, bytes, error))
    return false;
  auto fail = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  if (bytes.size() < kMagicLen + 2 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0)
    return fail("not a .npy file: it does not start with the magic \\x93NUMPY");
  const unsigned major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    return fail("unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                " (this reader knows 1.0, 2.0 and 3.0)");
  // 1.0 has a 16-bit header length, 2.0 a 32-bit one, 3.0 also allows UTF-8 in the header.
  const size_t lengthBytes = major == 1 ? 2 : 4;
  if (bytes.size() < kMagicLen + 2 + lengthBytes)
    return fail("truncated: the file ends inside the header length (" + std::to_string(bytes.size()) + " bytes)");
  const size_t headerLen = readLittleEndian(bytes.data() + kMagicLen + 2, lengthBytes);
  const size_t preamble = kMagicLen + 2 + lengthBytes + headerLen;
  if (preamble > bytes.size())
    return fail("truncated: the header is " + std::to_string(headerLen) + " bytes long but the file ends " +
                std::to_string(bytes.size() - (kMagicLen + 2 + lengthBytes)) + " bytes into it");
  const std::string_view header(bytes.data() + kMagicLen + 2 + lengthBytes, headerLen);

  PyValue descr, fortranOrder, shapeValue;
  std::string why;
  if (!HeaderParser(header).parse(descr, fortranOrder, shapeValue, why))
    return fail("malformed header: " + why + ": " + quoteHeader(header));
  if (descr.kind == PyValue::List)
    return fail("structured dtypes (a list of fields in 'descr') are not supported; save one plain numeric array per file");
  if (descr.kind != PyValue::String)
    return fail("malformed header: 'descr' is not a string: " + quoteHeader(header));
  if (fortranOrder.kind != PyValue::Bool)
    return fail("malformed header: 'fortran_order' is not True or False: " + quoteHeader(header));
  if (shapeValue.kind != PyValue::Tuple)
    return fail("malformed header: 'shape' is not a tuple of integers: " + quoteHeader(header));

  NpyArray result;
  size_t itemSize = 0;
  if (!parseNpyDtype(descr.text, result.dtype, itemSize, why))
    return fail(why);
  result.shape = std::move(shapeValue.ints);
  const std::optional<int64_t> needed = byteSize(result.shape, itemSize);
  if (!needed)
    return fail("shape " + shapeText(result.shape) + " of " + descr.text + " is too large to address");
  // Column-major bytes differ from row-major ones only when two or more dimensions exceed 1.
  const auto bigDims = std::count_if(result.shape.begin(), result.shape.end(), [](int64_t d) { return d > 1; });
  if (fortranOrder.flag && bigDims > 1 && *needed > 0)
    return fail("fortran_order is True (column-major data, shape " + shapeText(result.shape) +
                "); save it C-contiguous, e.g. np.save(path, np.ascontiguousarray(a))");

  const size_t have = bytes.size() - preamble;
  const std::string sizes = "shape " + shapeText(result.shape) + " of " + descr.text + " needs " +
                            std::to_string(*needed) + " bytes, file has " + std::to_string(have);
  if (have < static_cast<uint64_t>(*needed))
    return fail("truncated: " + sizes + " (after its " + std::to_string(preamble) + "-byte header)");
  if (have > static_cast<uint64_t>(*needed))
    return fail(std::to_string(have - *needed) + (have - *needed == 1 ? " trailing byte" : " trailing bytes") + " after the data: " + sizes + " after its " +
                std::to_string(preamble) + "-byte header");

  // Drop the preamble in place rather than copying the data: files can be large.
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(preamble));
  result.data = std::move(bytes);
  out = std::move(result);
  return true;
}

bool writeNpy(const std::string &path, const std::string &dtype, const std::vector<int64_t> &shape,
              const void *data, size_t bytes, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  std::string descr, why;
  size_t itemSize = 0;
  if (!parseNpyDtype(dtype, descr, itemSize, why))
    return fail(why);
  for (int64_t d : shape)
    if (d < 0)
      return fail("negative dimension in shape " + shapeText(shape));
  const std::optional<int64_t> needed = byteSize(shape, itemSize);
  if (!needed)
    return fail("shape " + shapeText(shape) + " of " + descr + " is too large to address");
  if (static_cast<uint64_t>(*needed) != bytes)
    return fail("data has " + std::to_string(bytes) + " bytes but shape " + shapeText(shape) + " of " + descr +
                " needs " + std::to_string(*needed));
  if (bytes > 0 && data == nullptr)
    return fail("data is null");

  // Exactly numpy's _write_array_header: keys sorted, repr() values, growth-axis spaces,
  // then spaces and '\n' up to the 64-byte boundary (a full 64 when already aligned).
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + pythonTuple(shape) + ", }";
  if (!shape.empty())
    header.append(kGrowthAxisMaxDigits - std::min(kGrowthAxisMaxDigits, std::to_string(shape[0]).size()), ' ');
  std::string preamble;
  for (size_t lengthBytes : {2, 4}) {
    const size_t hlen = header.size() + 1;
    const size_t padded = hlen + kAlign - (kMagicLen + 2 + lengthBytes + hlen) % kAlign;
    if (lengthBytes == 2 && padded > 0xffff)
      continue;  // too long for 1.0: numpy falls back to 2.0
    preamble.assign(kMagic, kMagicLen);
    preamble += static_cast<char>(lengthBytes == 2 ? 1 : 2);
    preamble += '\0';
    for (size_t i = 0; i < lengthBytes; ++i)
      preamble += static_cast<char>((padded >> (8 * i)) & 0xff);
    preamble += header;
    preamble.append(padded - hlen, ' ');
    preamble += '\n';
    break;
  }
  return writeFileAtomically(path, {{preamble.data(), preamble.size()}, {data, bytes}}, error);
}

} // namespace vidnet::rt
