#include "fixture_zip.h"

#include <zip.h>

#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>

namespace qs::test {

void writeZip(const std::string& path, const std::vector<std::pair<std::string, Bytes>>& members,
              bool deflate) {
    int err = 0;
    zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za)
        throw std::runtime_error("cannot create " + path);
    for (const auto& [name, data] : members) {
        // libzip reads the buffer at close time; keep a copy alive until then (freed by libzip).
        void* copy = std::malloc(data.empty() ? 1 : data.size());
        std::memcpy(copy, data.data(), data.size());
        zip_source_t* src = zip_source_buffer(za, copy, data.size(), 1);
        const zip_int64_t idx = zip_file_add(za, name.c_str(), src, ZIP_FL_OVERWRITE);
        if (idx < 0)
            throw std::runtime_error("cannot add " + name);
        zip_set_file_compression(za, static_cast<zip_uint64_t>(idx),
                                 deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
    }
    if (zip_close(za) != 0)
        throw std::runtime_error("cannot write " + path);
}

Bytes npyBytes(const std::string& descr, const std::vector<std::int64_t>& shape,
               const Bytes& data) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i)
        dict += std::to_string(shape[i]) +
                (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
    dict += "), }";
    const std::size_t total = 10 + dict.size() + 1;
    dict.append((total + 63) / 64 * 64 - total, ' ');
    dict += '\n';
    const std::uint8_t prefix[10] = {0x93,
                                     'N',
                                     'U',
                                     'M',
                                     'P',
                                     'Y',
                                     1,
                                     0,
                                     std::uint8_t(dict.size() & 0xFF),
                                     std::uint8_t(dict.size() >> 8)};
    Bytes out(10 + dict.size() + data.size());
    std::memcpy(out.data(), prefix, 10);
    std::memcpy(out.data() + 10, dict.data(), dict.size());
    if (!data.empty())
        std::memcpy(out.data() + 10 + dict.size(), data.data(), data.size());
    return out;
}

PickleWriter::PickleWriter() {
    m_b = {0x80, 0x02};
}

PickleWriter& PickleWriter::op(std::uint8_t code) {
    m_b.push_back(code);
    return *this;
}

PickleWriter& PickleWriter::global(const std::string& module, const std::string& name) {
    m_b.push_back('c');
    m_b.insert(m_b.end(), module.begin(), module.end());
    m_b.push_back('\n');
    m_b.insert(m_b.end(), name.begin(), name.end());
    m_b.push_back('\n');
    return *this;
}

PickleWriter& PickleWriter::str(const std::string& s) {
    m_b.push_back('X');
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 0; i < 4; ++i)
        m_b.push_back(std::uint8_t(n >> (8 * i)));
    m_b.insert(m_b.end(), s.begin(), s.end());
    return *this;
}

PickleWriter& PickleWriter::integer(std::int64_t v) {
    if (v >= 0 && v < 256) {
        m_b.push_back('K');
        m_b.push_back(std::uint8_t(v));
    } else {
        m_b.push_back(0x8a); // LONG1, 8 bytes little-endian two's complement
        m_b.push_back(8);
        for (int i = 0; i < 8; ++i)
            m_b.push_back(std::uint8_t(static_cast<std::uint64_t>(v) >> (8 * i)));
    }
    return *this;
}

PickleWriter& PickleWriter::tupleOf(const std::vector<std::int64_t>& v) {
    mark();
    for (auto x : v)
        integer(x);
    return op('t');
}

Bytes torchStateDictPickle(const std::vector<TorchTensorSpec>& tensors,
                           const std::string& wrapper) {
    PickleWriter p;
    if (!wrapper.empty())
        p.op('}').str(wrapper);
    p.global("collections", "OrderedDict").op(')').op('R').mark();
    for (const auto& t : tensors) {
        p.str(t.name);
        if (t.parameter)
            p.global("torch._utils", "_rebuild_parameter");
        p.global("torch._utils", "_rebuild_tensor_v2").mark();
        // persistent id ('storage', torch.XStorage, key, 'cpu', numel)
        p.mark()
            .str("storage")
            .global("torch", t.storageType)
            .str(t.storageKey)
            .str("cpu")
            .integer(t.storageNumel);
        p.op('t').op('Q');
        p.integer(t.offset).tupleOf(t.size).tupleOf(t.stride).op(0x89); // requires_grad False
        p.global("collections", "OrderedDict").op(')').op('R');         // backward hooks
        p.op('t').op('R');
        if (t.parameter)
            p.op(0x89).global("collections", "OrderedDict").op(')').op('R').op(0x87).op('R');
    }
    p.op('u');
    if (!wrapper.empty())
        p.op('s');
    return Bytes(p.stop().bytes());
}

void writeTorchZip(const std::string& path, const Bytes& dataPkl,
                   const std::vector<std::pair<std::string, Bytes>>& storages,
                   const std::string& archive,
                   const std::vector<std::pair<std::string, Bytes>>& extra) {
    std::vector<std::pair<std::string, Bytes>> members;
    members.emplace_back(archive + "/data.pkl", dataPkl);
    members.emplace_back(archive + "/byteorder", Bytes{'l', 'i', 't', 't', 'l', 'e'});
    for (const auto& [key, data] : storages)
        members.emplace_back(archive + "/data/" + key, data);
    members.emplace_back(archive + "/version", Bytes{'3', '\n'});
    for (const auto& e : extra)
        members.push_back(e);
    writeZip(path, members, false);
}

} // namespace qs::test
