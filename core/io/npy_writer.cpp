#include "io/npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

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

    const std::string tmp = path + ".tmp-quantscope";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) return makeError("cannot write " + tmp + ": " + std::strerror(errno));
        const unsigned char prefix[10] = {0x93,
                                          'N',
                                          'U',
                                          'M',
                                          'P',
                                          'Y',
                                          1,
                                          0,
                                          static_cast<unsigned char>(dict.size() & 0xFF),
                                          static_cast<unsigned char>(dict.size() >> 8)};
        f.write(reinterpret_cast<const char*>(prefix), sizeof prefix);
        f.write(dict.data(), static_cast<std::streamsize>(dict.size()));
        f.write(reinterpret_cast<const char*>(data.data()),
                static_cast<std::streamsize>(data.size_bytes()));
        f.flush();
        if (!f) {
            std::remove(tmp.c_str());
            return makeError("error while writing " + tmp);
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        return makeError("cannot move the output into place at " + path + ": " + ec.message());
    }
    return Ok{};
}

} // namespace qs
