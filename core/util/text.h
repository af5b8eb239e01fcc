#pragma once
// Error messages quote bytes from files; this keeps such a message to one printable line.

#include <string>
#include <string_view>

namespace qs {

// Control characters (including newlines) become '?'; other bytes are kept.
inline std::string printableLine(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s)
        out += (c >= 0x20 && c != 0x7F) ? static_cast<char>(c) : '?';
    return out;
}

} // namespace qs
