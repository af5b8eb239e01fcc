#include "io/npy.h"

#include "util/atomic_file.h"

#include <ostream>

namespace qs {

Status writeNpyFloat32(const std::string& path, const std::vector<std::int64_t>& shape,
                       std::span<const float> data) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i)
        dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "") +
                (i + 1 < shape.size() ? " " : "");
    dict += "), }";
    const size_t unpadded = 10 + dict.size() + 1;
    dict.append((unpadded + 63) / 64 * 64 - unpadded, ' ');
    dict += '\n';
    if (dict.size() > 65535) return makeError("shape too long for an .npy header");

    return writeFileAtomically(path, [&](std::ostream& f) -> Status {
        const unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                          static_cast<unsigned char>(dict.size() & 0xFF),
                                          static_cast<unsigned char>(dict.size() >> 8)};
        f.write(reinterpret_cast<const char*>(prefix), sizeof prefix);
        f.write(dict.data(), static_cast<std::streamsize>(dict.size()));
        f.write(reinterpret_cast<const char*>(data.data()),
                static_cast<std::streamsize>(data.size_bytes()));
        return Ok{};
    });
}

} // namespace qs
