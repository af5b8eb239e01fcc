#pragma once
// One CSV field as RFC 4180 writes it: quoted (with quotes doubled) where it holds a comma, a
// quote or a newline, else as it is. For the report export and the GUI's tables.

#include <string>

namespace qs {

inline std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string q = "\"";
    for (char c : s)
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

} // namespace qs
