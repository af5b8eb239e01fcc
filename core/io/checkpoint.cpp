#include "io/checkpoint.h"

#include "io/npy.h"
#include "io/safetensors.h"
#include "io/sharded.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

namespace qs {

bool checkedNumel(const std::vector<std::int64_t>& shape, std::uint64_t& out) {
    std::uint64_t n = 1;
    for (auto d : shape) {
        if (d < 0)
            return false;
        if (d != 0 && n > UINT64_MAX / static_cast<std::uint64_t>(d))
            return false;
        n *= static_cast<std::uint64_t>(d);
    }
    out = n;
    return true;
}

std::int64_t TensorInfo::numel() const {
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d;
    return n;
}

std::int64_t TensorInfo::rows() const {
    return shape.size() >= 2 ? shape[0] : 1;
}

std::int64_t TensorInfo::cols() const {
    if (shape.empty())
        return 1;
    if (shape.size() == 1)
        return shape[0];
    return shape[0] == 0 ? 0 : numel() / shape[0];
}

std::string TensorInfo::shapeString() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

Checkpoint::Checkpoint(std::string path, std::string format)
    : m_path(std::move(path)), m_format(std::move(format)) {}

int Checkpoint::addFile(std::shared_ptr<const MappedFile> file) {
    m_files.push_back(std::move(file));
    return static_cast<int>(m_files.size()) - 1;
}

const TensorInfo* Checkpoint::find(const std::string& name) const {
    auto it = std::find_if(m_tensors.begin(), m_tensors.end(),
                           [&](const TensorInfo& t) { return t.name == name; });
    return it == m_tensors.end() ? nullptr : &*it;
}

std::int64_t Checkpoint::totalParameters() const {
    std::int64_t n = 0;
    for (const auto& t : m_tensors)
        n += t.numel();
    return n;
}

std::uint64_t Checkpoint::totalBytes() const {
    std::uint64_t n = 0;
    for (const auto& t : m_tensors)
        n += t.nbytes;
    return n;
}

Status Checkpoint::absorb(Checkpoint&& other) {
    const int base = static_cast<int>(m_files.size());
    for (auto& f : other.m_files)
        m_files.push_back(std::move(f));
    std::set<std::string> names;
    for (const auto& t : m_tensors)
        names.insert(t.name);
    for (auto& t : other.m_tensors) {
        if (!names.insert(t.name).second)
            return makeError("tensor '" + t.name + "' appears in more than one file (" +
                             other.m_path + ")");
        t.file += base;
        m_tensors.push_back(std::move(t));
    }
    for (auto& [k, v] : other.m_metadata)
        m_metadata.emplace(k, v);
    return Ok{};
}

Result<std::vector<float>> Checkpoint::readFloat(const TensorInfo& t) const {
    if (t.file < 0 || t.file >= static_cast<int>(m_files.size()))
        return makeError("tensor '" + t.name + "' refers to a file that is not open");
    if (!isNumeric(t.dtype))
        return makeError("tensor '" + t.name + "' has dtype " + std::string(dtypeName(t.dtype)) +
                         ", which has no real values to analyse");
    const auto& file = *m_files[static_cast<size_t>(t.file)];
    if (t.offset > file.size() || t.nbytes > file.size() - t.offset)
        return makeError("tensor '" + t.name + "' lies past the end of " + file.path());
    const auto n = static_cast<size_t>(t.numel());
    std::vector<float> out;
    try {
        out.resize(n);
    } catch (const std::bad_alloc&) {
        return makeError("not enough memory to decode tensor '" + t.name + "'");
    }
    auto src = file.bytes().subspan(t.offset, t.nbytes);
    std::vector<std::byte> swapped;
    if (t.byteSwapped) {
        const size_t w = static_cast<size_t>(bitsOf(t.dtype) / 8);
        swapped.assign(src.begin(), src.end());
        for (size_t i = 0; w > 1 && i + w <= swapped.size(); i += w)
            std::reverse(swapped.begin() + static_cast<long>(i),
                         swapped.begin() + static_cast<long>(i + w));
        src = swapped;
    }
    if (!decodeToFloat(t.dtype, src, out))
        return makeError("cannot decode tensor '" + t.name + "'");
    if (t.fortranOrder && t.shape.size() >= 2) {
        // Column-major storage: element (i0, i1, ..., ik) lives at i0 + d0*(i1 + d1*(...)).
        std::vector<float> rowMajor(n);
        const size_t nd = t.shape.size();
        std::vector<size_t> idx(nd, 0);
        for (size_t r = 0; r < n; ++r) {
            size_t f = 0;
            for (size_t k = nd; k-- > 0;)
                f = f * static_cast<size_t>(t.shape[k]) + idx[k];
            rowMajor[r] = out[f];
            for (size_t k = nd; k-- > 0;) {
                if (++idx[k] < static_cast<size_t>(t.shape[k]))
                    break;
                idx[k] = 0;
            }
        }
        out.swap(rowMajor);
    }
    return out;
}

Result<Checkpoint> Checkpoint::open(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return openModelDirectory(path);
    auto file = MappedFile::open(path);
    if (!file)
        return file.error();
    auto head = (*file)->bytes().first(std::min<size_t>(64, (*file)->size()));
    if (looksLikeNpy(head))
        return readNpy(*file);
    if (looksLikeSafetensors(head, (*file)->size()))
        return readSafetensors(*file);
    if (looksLikeSafetensorsIndex(**file))
        return readSafetensorsIndex(path);
    return makeError(path +
                     ": unrecognised file format (supported: safetensors, sharded safetensors "
                     "(.index.json or a model directory), NumPy .npy)");
}

} // namespace qs
