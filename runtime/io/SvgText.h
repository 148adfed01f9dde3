// Text pieces the runtime's SVG plots share: numbers, XML-safe text, <text> elements.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vidnet::rt {

// Fixed decimals, without the "-0.0" printf gives for tiny negative values.
std::string svgNumber(double v, int decimals = 1);

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no surrogates), or 0.
size_t utf8Length(std::string_view s, size_t i);

// Text content for XML 1.0: markup escaped, and bytes a parser would refuse (control
// characters, broken UTF-8, e.g. a Latin-1 file or class name) replaced by '?', so the SVG
// always loads.
std::string escapeXml(std::string_view s);

// Appends <text x y text-anchor EXTRA>content</text>.
void svgText(std::string &svg, double x, double y, std::string_view anchor, std::string_view content,
             std::string_view extra = "");

} // namespace vidnet::rt
