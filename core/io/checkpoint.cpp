#include "io/checkpoint.h"

#include "io/gguf_reader.h"
#include "io/hdf5_reader.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/onnx_reader.h"
#include "io/safetensors.h"
#include "io/sharded.h"
#include "io/torch_zip.h"
#include "io/zip_archive.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace qs {

bool checkedNumel(const std::vector<std::int64_t>& shape, std::uint64_t& out) {
    if (shape.size() > kMaxDims)
        return false;
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

std::string TensorInfo::typeName() const {
    return storedType.empty() ? std::string(dtypeName(dtype)) : storedType;
}

double TensorInfo::bitsPerWeight() const {
    const auto n = numel();
    return n > 0 ? static_cast<double>(nbytes) * 8.0 / static_cast<double>(n) : 0.0;
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

namespace {

// A strided view (PyTorch tensors that are views of a larger storage): element (i0, ..., ik)
// lives at sum(i_j * stride_j) elements from the start of `src`.
Result<std::vector<float>> gatherStrided(const TensorInfo& t, std::span<const std::byte> src,
                                         std::vector<float>& out) {
    const size_t es = static_cast<size_t>(bitsOf(t.dtype) / 8);
    const size_t nd = t.shape.size();
    if (es == 0 || t.strides.size() != nd)
        return makeError("tensor '" + t.name + "' has strides that do not match its shape");
    std::vector<std::int64_t> idx(nd, 0);
    for (size_t r = 0; r < out.size(); ++r) {
        std::uint64_t pos = 0;
        for (size_t k = 0; k < nd; ++k)
            pos += static_cast<std::uint64_t>(idx[k] * t.strides[k]);
        if ((pos + 1) * es > src.size())
            return makeError("tensor '" + t.name + "' reaches past its storage");
        decodeToFloat(t.dtype, src.subspan(pos * es, es), std::span<float>(&out[r], 1));
        for (size_t k = nd; k-- > 0;) {
            if (++idx[k] < t.shape[k])
                break;
            idx[k] = 0;
        }
    }
    return std::move(out);
}

} // namespace

bool Checkpoint::canReadRows(const TensorInfo& t) const {
    return !t.source && t.zipMember.empty() && t.strides.empty() && !t.fortranOrder &&
           !t.byteSwapped && isNumeric(t.dtype) && bitsOf(t.dtype) % 8 == 0 && t.file >= 0 &&
           t.file < static_cast<int>(m_files.size()) &&
           t.offset <= m_files[static_cast<size_t>(t.file)]->size() &&
           t.nbytes <= m_files[static_cast<size_t>(t.file)]->size() - t.offset &&
           t.nbytes == static_cast<std::uint64_t>(t.numel()) *
                           static_cast<std::uint64_t>(bitsOf(t.dtype) / 8);
}

Status Checkpoint::readRows(const TensorInfo& t, std::int64_t r0, std::int64_t r1,
                            std::span<float> out) const {
    if (!canReadRows(t))
        return makeError("tensor '" + t.name + "' cannot be read by rows");
    const std::int64_t cols = t.cols();
    if (r0 < 0 || r1 < r0 || r1 > t.rows() ||
        out.size() != static_cast<size_t>((r1 - r0) * cols))
        return makeError("rows " + std::to_string(r0) + ".." + std::to_string(r1) +
                         " do not fit tensor '" + t.name + "'");
    const size_t es = static_cast<size_t>(bitsOf(t.dtype) / 8);
    const auto src = m_files[static_cast<size_t>(t.file)]->bytes().subspan(
        t.offset + static_cast<std::uint64_t>(r0 * cols) * es, out.size() * es);
    constexpr size_t kChunk = size_t{1} << 18;
    bool ok = true;
    tbb::parallel_for(tbb::blocked_range<size_t>(0, out.size(), kChunk),
                      [&](const tbb::blocked_range<size_t>& r) {
                          if (!decodeToFloat(t.dtype, src.subspan(r.begin() * es, r.size() * es),
                                             out.subspan(r.begin(), r.size())))
                              ok = false;
                      });
    if (!ok)
        return makeError("cannot decode tensor '" + t.name + "'");
    return Ok{};
}

void Checkpoint::releaseRows(const TensorInfo& t, std::int64_t r0, std::int64_t r1) const {
    if (!canReadRows(t))
        return;
    const auto es = static_cast<std::uint64_t>(bitsOf(t.dtype) / 8);
    const auto cols = static_cast<std::uint64_t>(t.cols());
    m_files[static_cast<size_t>(t.file)]->release(
        t.offset + static_cast<std::uint64_t>(r0) * cols * es,
        static_cast<std::uint64_t>(r1 - r0) * cols * es);
}

Result<std::vector<float>> Checkpoint::readFloat(const TensorInfo& t) const {
    if (t.file < 0 || t.file >= static_cast<int>(m_files.size()))
        return makeError("tensor '" + t.name + "' refers to a file that is not open");
    if (!isNumeric(t.dtype))
        return makeError("tensor '" + t.name + "' has dtype " + std::string(dtypeName(t.dtype)) +
                         ", which has no real values to analyse");
    if (canReadRows(t)) { // plain bytes: decoded in parallel
        std::vector<float> values;
        try {
            values.resize(static_cast<size_t>(t.numel()));
        } catch (const std::bad_alloc&) {
            return makeError("not enough memory to decode tensor '" + t.name + "'");
        }
        if (auto st = readRows(t, 0, t.rows(), values); !st)
            return st.error();
        return values;
    }
    if (t.source) {
        std::vector<float> values;
        try {
            values.resize(static_cast<size_t>(t.numel()));
        } catch (const std::bad_alloc&) {
            return makeError("not enough memory to decode tensor '" + t.name + "'");
        }
        if (auto st = t.source->read(t, values); !st)
            return st.error();
        return values;
    }
    const auto& file = *m_files[static_cast<size_t>(t.file)];
    auto src = file.bytes();
    std::vector<std::byte> inflated;
    if (!t.zipMember.empty()) {
        auto zip = ZipArchive::open(m_files[static_cast<size_t>(t.file)]);
        if (!zip)
            return zip.error();
        const ZipEntry* e = zip->find(t.zipMember);
        if (!e)
            return makeError("ZIP member '" + t.zipMember + "' of tensor '" + t.name + "' is gone");
        auto data = zip->read(*e, t.offset + t.nbytes);
        if (!data)
            return data.error();
        inflated = std::move(data).value();
        src = inflated;
    }
    if (t.offset > src.size() || t.nbytes > src.size() - t.offset)
        return makeError("tensor '" + t.name + "' lies past the end of " + file.path());
    const auto n = static_cast<size_t>(t.numel());
    if (t.strides.empty() && t.nbytes * 8 < static_cast<std::uint64_t>(n) *
                                                 static_cast<std::uint64_t>(bitsOf(t.dtype)))
        return makeError("tensor '" + t.name + "' has fewer bytes than its shape needs");
    std::vector<float> out;
    try {
        out.resize(n);
    } catch (const std::bad_alloc&) {
        return makeError("not enough memory to decode tensor '" + t.name + "'");
    }
    src = src.subspan(t.offset, t.nbytes);
    std::vector<std::byte> swapped;
    if (t.byteSwapped) {
        const size_t w = static_cast<size_t>(bitsOf(t.dtype) / 8);
        swapped.assign(src.begin(), src.end());
        for (size_t i = 0; w > 1 && i + w <= swapped.size(); i += w)
            std::reverse(swapped.begin() + static_cast<long>(i),
                         swapped.begin() + static_cast<long>(i + w));
        src = swapped;
    }
    if (!t.strides.empty())
        return gatherStrided(t, src, out);
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

Result<Checkpoint> Checkpoint::open(const std::string& path, const ProgressFn& progress) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return openModelDirectory(path, progress);
    auto file = MappedFile::open(path);
    if (!file)
        return file.error();
    auto head = (*file)->bytes().first(std::min<size_t>(64, (*file)->size()));
    if (looksLikeGguf(head))
        return readGguf(*file);
    if (looksLikeNpy(head))
        return readNpy(*file);
    if (looksLikeSafetensors(head, (*file)->size()))
        return readSafetensors(*file);
    if (looksLikeSafetensorsIndex(**file))
        return readSafetensorsIndex(path, progress);
    if (ZipArchive::looksLikeZip(head)) {
        auto zip = ZipArchive::open(*file);
        if (!zip)
            return zip.error();
        if (isTorchZip(*zip))
            return readTorchZip(*file, *zip);
        if (zip->find("model.weights.h5"))
            return readKerasArchive(*file, *zip);
        return readNpz(*file, *zip);
    }
    if (looksLikeHdf5(head))
        return readHdf5(*file);
    if (isLegacyTorch(head))
        return makeError(path +
                         ": a legacy (pre-1.6) PyTorch file; load it in PyTorch and save it again "
                         "with torch.save (zip format) or as safetensors");
    if (looksLikeOnnx((*file)->bytes()))
        return readOnnx(*file);
    return makeError(path +
                     ": unrecognised file format (supported: GGUF, safetensors, sharded "
                     "safetensors (.index.json or a model directory), PyTorch .pt/.bin (zip), "
                     "HDF5/Keras "
                     ".h5/.keras, NumPy .npy/.npz, ONNX .onnx)");
}

} // namespace qs
