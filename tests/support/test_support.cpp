#include "test_support.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace qs::test {

std::string sourceDir() {
    if (const char* s = std::getenv("QS_SOURCE_DIR")) return s;
    return QS_DEFAULT_SOURCE_DIR;
}

std::string binaryDir() {
    if (const char* s = std::getenv("QS_BINARY_DIR")) return s;
    return QS_DEFAULT_BINARY_DIR;
}

std::string samplePath() {
    return sourceDir() + "/resources/samples/stories260K.safetensors";
}

std::vector<std::uint8_t> floatBytes(const std::vector<float>& v) {
    std::vector<std::uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

void writeBytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + path);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> safetensorsBytes(const std::string& headerJson,
                                           const std::vector<std::uint8_t>& data) {
    std::string header = headerJson;
    while (header.size() % 8)
        header += ' ';
    std::vector<std::uint8_t> out(8 + header.size() + data.size());
    const std::uint64_t n = header.size();
    std::memcpy(out.data(), &n, 8);
    std::copy(header.begin(), header.end(), out.begin() + 8);
    std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<long>(header.size()));
    return out;
}

void writeSafetensors(const std::string& path, const std::vector<FixtureTensor>& tensors,
                      const std::vector<std::pair<std::string, std::string>>& metadata) {
    std::string json = "{";
    if (!metadata.empty()) {
        json += "\"__metadata__\":{";
        for (size_t i = 0; i < metadata.size(); ++i)
            json +=
                (i ? "," : "") + ("\"" + metadata[i].first + "\":\"" + metadata[i].second + "\"");
        json += "}";
    }
    std::vector<std::uint8_t> data;
    for (const auto& t : tensors) {
        if (json.size() > 1) json += ",";
        json += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
        for (size_t i = 0; i < t.shape.size(); ++i)
            json += (i ? "," : "") + std::to_string(t.shape[i]);
        json += "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                std::to_string(data.size() + t.bytes.size()) + "]}";
        data.insert(data.end(), t.bytes.begin(), t.bytes.end());
    }
    json += "}";
    writeBytes(path, safetensorsBytes(json, data));
}

void writeNpy(const std::string& path, const std::string& descr,
              const std::vector<std::int64_t>& shape, const std::vector<std::uint8_t>& data,
              bool fortranOrder, int version) {
    std::string dict = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortranOrder ? "True" : "False") + ", 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i)
        dict += std::to_string(shape[i]) + ", ";
    if (shape.size() > 1)
        dict.resize(dict.size() - 2);
    else if (shape.size() == 1)
        dict.resize(dict.size() - 1);
    dict += "), }";
    const size_t lenField = version == 1 ? 2 : 4;
    const size_t prefix = 6 + 2 + lenField;
    size_t total = prefix + dict.size() + 1;
    const size_t padded = (total + 63) / 64 * 64;
    dict.append(padded - total, ' ');
    dict += '\n';
    std::vector<std::uint8_t> out = {
        0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(version), 0};
    const std::uint32_t hl = static_cast<std::uint32_t>(dict.size());
    for (size_t i = 0; i < lenField; ++i)
        out.push_back(static_cast<std::uint8_t>(hl >> (8 * i)));
    out.insert(out.end(), dict.begin(), dict.end());
    out.insert(out.end(), data.begin(), data.end());
    writeBytes(path, out);
}

} // namespace qs::test
