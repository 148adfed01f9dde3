// Text pieces shared by the runtime's SVG plots (training curves, confusion matrices).
#include "runtime/io/SvgText.h"

#include <cstdio>

namespace vidnet::rt {

namespace {

bool isZeroText(const std::string &s) { return s.find_first_not_of("-0.") == std::string::npos; }

} // namespace

std::string svgNumber(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  // "-0.0" is what printf gives for tiny negative values; it reads as a bug on an axis.
  if (s[0] == '-' && isZeroText(s))
    s.erase(0, 1);
  return s;
}

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no surrogates), or 0.
size_t utf8Length(std::string_view s, size_t i) {
  const unsigned char c = s[i];
  if (c < 0x80)
    return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;  // overlong
    hi = c == 0xED ? 0x9F : 0xBF;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;  // overlong
    hi = c == 0xF4 ? 0x8F : 0xBF;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char b = s[i + k];
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
      return 0;
  }
  return n;
}

// Text content for XML 1.0: markup escaped, and bytes a parser would refuse (control
// characters, broken UTF-8, e.g. a Latin-1 file name) replaced by '?', so the SVG always loads.
std::string escapeXml(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8Length(s, i);
    const unsigned char c = s[i];
    if (n == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
      out += '?';
      ++i;
      continue;
    }
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default: out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

void svgText(std::string &svg, double x, double y, std::string_view anchor, std::string_view content,
             std::string_view extra) {
  svg += "<text x=\"" + svgNumber(x) + "\" y=\"" + svgNumber(y) + "\" text-anchor=\"" + std::string(anchor) + "\"" +
         std::string(extra) + ">" + escapeXml(content) + "</text>\n";
}

} // namespace vidnet::rt
