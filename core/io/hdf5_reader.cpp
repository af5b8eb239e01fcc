#include "io/hdf5_reader.h"

#include "io/isolated_call.h"
#include "util/text.h"

#include <hdf5.h>

#include <cstring>
#include <stdexcept>

namespace qs {
namespace {

// libhdf5 is never called in this process: every open and read runs in a short-lived child
// (io/isolated_call.h). libhdf5 1.10 dereferences NULL on some corrupt files (fuzz/known/), and
// its Debian build is not thread-safe; a child per call answers both. Inside the child, failures
// are thrown as std::runtime_error with the complete one-line message.
[[noreturn]] void fail(const std::string& message) {
    throw std::runtime_error(message);
}

// A real file's metadata walks in milliseconds and its data decodes at well over 50 MB/s; a
// child slower than this is spinning on a crafted file and is stopped.
constexpr double kListTimeoutSeconds = 10;
double readTimeoutSeconds(std::size_t bytes) {
    return 10.0 + static_cast<double>(bytes) / 50e6;
}

// Closes an HDF5 handle on scope exit.
class Handle {
public:
    Handle(hid_t id, herr_t (*close)(hid_t)) : m_id(id), m_close(close) {}
    ~Handle() {
        if (m_id >= 0)
            m_close(m_id);
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    hid_t get() const { return m_id; }
    bool ok() const { return m_id >= 0; }

private:
    hid_t m_id;
    herr_t (*m_close)(hid_t);
};

using Image = std::shared_ptr<const std::vector<std::byte>>;

hid_t openFile(const std::string& path, const Image& image) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); // errors become return values, not stderr noise
    if (!image)
        return H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_fapl_core(fapl.get(), 1 << 20, 0);
    H5Pset_file_image(fapl.get(), const_cast<std::byte*>(image->data()), image->size());
    return H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
}

class Hdf5Source final : public TensorSource {
public:
    Hdf5Source(std::string path, Image image, std::string dataset)
        : m_path(std::move(path)), m_image(std::move(image)), m_dataset(std::move(dataset)) {}
    Status read(const TensorInfo& t, std::span<float> out) const override {
        if (out.empty())
            return Ok{};
        auto shared = SharedBuffer::create(out.size_bytes());
        if (!shared)
            return shared.error();
        float* dest = static_cast<float*>(shared->data());
        auto done = runIsolated(
            [&] {
                readInto(t, dest, out.size());
                return std::string();
            },
            m_path + ": libhdf5 reading dataset '" + t.name + "'", 0,
            readTimeoutSeconds(out.size_bytes()));
        if (!done)
            return done.error();
        std::memcpy(out.data(), dest, out.size_bytes());
        return Ok{};
    }

private:
    // Runs in the child.
    void readInto(const TensorInfo& t, float* dest, std::size_t n) const {
        Handle f(openFile(m_path, m_image), H5Fclose);
        if (!f.ok())
            fail("cannot reopen HDF5 file " + m_path);
        Handle d(H5Dopen2(f.get(), m_dataset.c_str(), H5P_DEFAULT), H5Dclose);
        if (!d.ok())
            fail("HDF5 dataset '" + m_dataset + "' is gone");
        Handle space(H5Dget_space(d.get()), H5Sclose);
        if (!space.ok() || H5Sget_simple_extent_npoints(space.get()) != static_cast<hssize_t>(n))
            fail("HDF5 dataset '" + t.name + "' changed size");
        if (H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dest) < 0)
            fail("HDF5 cannot read dataset '" + t.name + "' (corrupt data or unsupported filter)");
    }

    std::string m_path;
    Image m_image;
    std::string m_dataset;
};

std::optional<DType> numericType(hid_t type) {
    const H5T_class_t cls = H5Tget_class(type);
    const size_t size = H5Tget_size(type);
    if (cls == H5T_FLOAT) {
        size_t spos, epos, esize, mpos, msize;
        H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize);
        if (size == 2)
            return esize == 8 ? DType::BF16 : DType::F16;
        if (size == 4)
            return DType::F32;
        if (size == 8)
            return DType::F64;
        return std::nullopt;
    }
    if (cls == H5T_INTEGER) {
        const bool sign = H5Tget_sign(type) == H5T_SGN_2;
        switch (size) {
        case 1:
            return sign ? DType::I8 : DType::U8;
        case 2:
            return sign ? DType::I16 : DType::U16;
        case 4:
            return sign ? DType::I32 : DType::U32;
        case 8:
            return sign ? DType::I64 : DType::U64;
        default:
            return std::nullopt;
        }
    }
    return std::nullopt;
}

// Whether the stored bytes are the plain little-endian layout decodeToFloat understands.
bool plainLittleEndian(hid_t type, DType dt) {
    if (H5Tget_order(type) != H5T_ORDER_LE)
        return false;
    if (dt == DType::F16 || dt == DType::BF16) {
        size_t spos, epos, esize, mpos, msize;
        H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize);
        return spos == 15 &&
               (dt == DType::F16 ? (esize == 5 && msize == 10) : (esize == 8 && msize == 7));
    }
    if (dt == DType::F32)
        return H5Tequal(type, H5T_IEEE_F32LE) > 0;
    if (dt == DType::F64)
        return H5Tequal(type, H5T_IEEE_F64LE) > 0;
    return true;
}

std::string readStringAttribute(hid_t obj, const char* name) {
    if (H5Aexists(obj, name) <= 0)
        return {};
    Handle a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(a.get()), H5Tclose);
    Handle space(H5Aget_space(a.get()), H5Sclose);
    if (!a.ok() || H5Tget_class(type.get()) != H5T_STRING ||
        H5Sget_simple_extent_npoints(space.get()) != 1)
        return {};
    if (H5Tis_variable_str(type.get()) > 0) {
        char* s = nullptr;
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        if (H5Aread(a.get(), mem.get(), &s) < 0 || !s)
            return {};
        std::string out(s);
        H5free_memory(s);
        return out;
    }
    const size_t n = H5Tget_size(type.get());
    if (n == 0 || n > (64u << 20))
        return {};
    std::string out(n, '\0');
    if (H5Aread(a.get(), type.get(), out.data()) < 0)
        return {};
    out.resize(std::strlen(out.c_str()));
    return out;
}

// A chunked dataset must have one chunk dimension per dataspace dimension (a scalar cannot be
// chunked), each at least 1, and chunks of at most kMaxChunkElements: a fuzzed file whose 2-D
// chunks describe a scalar made H5Dread spin for minutes and take 1.8 GB.
constexpr std::uint64_t kMaxChunkElements = std::uint64_t{1} << 28;

bool sensibleLayout(hid_t dcpl, int rank) {
    if (H5Pget_layout(dcpl) != H5D_CHUNKED)
        return true;
    hsize_t chunk[32];
    if (rank < 1 || H5Pget_chunk(dcpl, 32, chunk) != rank)
        return false;
    std::uint64_t elements = 1;
    for (int k = 0; k < rank; ++k) {
        if (chunk[k] < 1 || chunk[k] > kMaxChunkElements)
            return false;
        elements *= chunk[k];
        if (elements > kMaxChunkElements)
            return false;
    }
    return true;
}

struct VisitState {
    std::vector<std::string> datasets;
    std::size_t skipped = 0;
    std::size_t links = 0;
    bool tooDeep = false;
};

// Real weight files nest a few groups deep; a corrupt B-tree can make a group contain itself,
// and H5Lvisit then walks ever longer paths for ever (found by fuzzing).
constexpr std::size_t kMaxPathLength = 4096;
constexpr std::size_t kMaxLinks = 10'000'000;

herr_t visitLink(hid_t group, const char* name, const H5L_info_t* info, void* data) {
    auto* st = static_cast<VisitState*>(data);
    if (std::strlen(name) > kMaxPathLength || ++st->links > kMaxLinks) {
        st->tooDeep = true;
        return 1; // stops the walk
    }
    if (info->type != H5L_TYPE_HARD)
        return 0; // soft and external links are not followed
    Handle obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
    if (obj.ok() && H5Iget_type(obj.get()) == H5I_DATASET)
        st->datasets.emplace_back(name);
    return 0;
}

// What the child learns about one dataset; the parent builds the Checkpoint from these.
struct Listed {
    std::string path, name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t nbytes = 0;
    std::uint64_t offset = 0; // absolute offset when read in place; 0: through libhdf5
};

// Runs in the child: walks the file and returns the encoded listing (see decodeListing).
std::string listImage(const std::string& displayPath, const std::string& h5Path,
                      const Image& image, std::uint64_t baseOffset, std::uint64_t fileSize,
                      bool inPlace, const std::string& format) {
    auto failHere = [&](const std::string& what) { fail(printableLine(displayPath + ": " + what)); };
    Handle f(openFile(h5Path, image), H5Fclose);
    if (!f.ok())
        failHere("not a readable HDF5 file (corrupt or truncated)");
    VisitState st;
    if (H5Lvisit(f.get(), H5_INDEX_NAME, H5_ITER_INC, visitLink, &st) < 0)
        failHere("corrupt HDF5 group structure");
    if (st.tooDeep)
        failHere("corrupt HDF5 group structure (paths longer than 4096 characters or more than "
                 "10 million links: a group inside itself?)");

    ReplyWriter out;
    std::vector<std::pair<std::string, std::string>> metadata;
    for (const char* key : {"keras_version", "backend"})
        if (auto v = readStringAttribute(f.get(), key); !v.empty())
            metadata.emplace_back(key, v);
    const bool legacyKeras = H5Lexists(f.get(), "model_weights", H5P_DEFAULT) > 0;
    bool keras = legacyKeras || format == "keras";
    std::vector<Listed> listed;
    for (const auto& path : st.datasets) {
        Handle d(H5Dopen2(f.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
        Handle type(H5Dget_type(d.get()), H5Tclose);
        Handle space(H5Dget_space(d.get()), H5Sclose);
        if (!d.ok() || !type.ok() || !space.ok()) {
            ++st.skipped;
            continue;
        }
        const auto dt = numericType(type.get());
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (!dt || rank < 0 || rank > 32) {
            ++st.skipped;
            continue;
        }
        Listed t;
        t.path = path;
        t.name = legacyKeras && path.rfind("model_weights/", 0) == 0 ? path.substr(14) : path;
        t.dtype = *dt;
        hsize_t dims[32];
        H5Sget_simple_extent_dims(space.get(), dims, nullptr);
        for (int k = 0; k < rank; ++k)
            t.shape.push_back(static_cast<std::int64_t>(dims[k]));
        std::uint64_t numel = 0;
        if (!checkedNumel(t.shape, numel) || numel > UINT64_MAX / 8)
            failHere("dataset '" + path + "' has a shape that overflows");
        t.nbytes = numel * static_cast<std::uint64_t>(bitsOf(t.dtype) / 8);
        Handle dcpl(H5Dget_create_plist(d.get()), H5Pclose);
        if (!dcpl.ok() || !sensibleLayout(dcpl.get(), rank)) {
            ++st.skipped; // libhdf5 can spin for minutes reading such a dataset
            continue;
        }
        const haddr_t offset = H5Dget_offset(d.get());
        if (inPlace && H5Pget_layout(dcpl.get()) == H5D_CONTIGUOUS && offset != HADDR_UNDEF &&
            H5Dget_storage_size(d.get()) == t.nbytes && plainLittleEndian(type.get(), t.dtype) &&
            baseOffset + offset <= fileSize && t.nbytes <= fileSize - baseOffset - offset &&
            t.nbytes > 0)
            t.offset = baseOffset + offset;
        if (path.find("kernel") != std::string::npos)
            keras = true;
        listed.push_back(std::move(t));
    }
    out.u64(metadata.size());
    for (const auto& [k, v] : metadata) {
        out.str(k);
        out.str(v);
    }
    out.u64(keras ? 1 : 0);
    out.u64(st.skipped);
    out.u64(listed.size());
    for (const Listed& t : listed) {
        out.str(t.path);
        out.str(t.name);
        out.u64(static_cast<std::uint64_t>(t.dtype));
        out.u64(t.shape.size());
        for (auto d : t.shape)
            out.u64(static_cast<std::uint64_t>(d));
        out.u64(t.nbytes);
        out.u64(t.offset);
    }
    return out.take();
}

Result<Checkpoint> readImage(std::shared_ptr<const MappedFile> file, const std::string& h5Path,
                             Image image, std::uint64_t baseOffset, bool inPlace,
                             const std::string& format) {
    auto reply = runIsolated(
        [&] {
            return listImage(file->path(), h5Path, image, baseOffset, file->size(), inPlace,
                             format);
        },
        printableLine(file->path()) + ": libhdf5", std::size_t{1} << 30, kListTimeoutSeconds);
    if (!reply)
        return reply.error();
    Checkpoint ckpt(file->path(), format);
    const int index = ckpt.addFile(file);
    try {
        ReplyReader in(*reply);
        for (auto n = in.u64(); n > 0; --n) {
            auto key = in.str();
            ckpt.setMetadata(std::move(key), in.str());
        }
        const bool keras = in.u64() != 0;
        const std::uint64_t skipped = in.u64();
        for (auto n = in.u64(); n > 0; --n) {
            const std::string path = in.str();
            TensorInfo t;
            t.name = in.str();
            t.dtype = static_cast<DType>(in.u64());
            for (auto rank = in.u64(); rank > 0; --rank)
                t.shape.push_back(static_cast<std::int64_t>(in.u64()));
            t.nbytes = in.u64();
            t.offset = in.u64();
            t.file = index;
            if (t.offset == 0)
                t.source = std::make_shared<Hdf5Source>(h5Path, image, path);
            ckpt.addTensor(std::move(t));
        }
        if (keras)
            ckpt.setMetadata("layout", "Keras kernels are stored [in, out]: groups run along "
                                       "out, the last axis");
        if (skipped)
            ckpt.setMetadata("skipped_datasets",
                             std::to_string(skipped) +
                                 " non-numeric, unsupported or with a broken chunk layout");
    } catch (const std::runtime_error&) {
        return makeError(file->path() + ": malformed reply from the HDF5 helper process");
    }
    if (ckpt.tensors().empty())
        return makeError(printableLine(file->path() + ": an HDF5 file without numeric datasets"));
    return ckpt;
}

} // namespace

bool looksLikeHdf5(std::span<const std::byte> head) {
    static const unsigned char kSig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    return head.size() >= 8 && std::memcmp(head.data(), kSig, 8) == 0;
}

Result<Checkpoint> readHdf5(std::shared_ptr<const MappedFile> file) {
    return readImage(file, file->path(), nullptr, 0, true, "hdf5");
}

Result<Checkpoint> readKerasArchive(std::shared_ptr<const MappedFile> file, const ZipArchive& zip) {
    const ZipEntry* e = zip.find("model.weights.h5");
    if (!e)
        return makeError(file->path() + ": a .keras archive without model.weights.h5");
    auto bytes = zip.read(*e);
    if (!bytes)
        return bytes.error();
    auto image = std::make_shared<const std::vector<std::byte>>(std::move(bytes).value());
    // Stored members can still be read in place: dataset offsets are relative to the member.
    return readImage(file, file->path() + "#model.weights.h5", image, e->dataOffset, e->stored(),
                     "keras");
}

} // namespace qs
