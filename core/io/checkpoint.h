#pragma once
// A checkpoint: the tensors of one or more memory-mapped files, described lazily. Opening reads
// headers only; a tensor is decoded to float when asked for. Immutable after open(), so any
// thread may read tensors concurrently.

#include "io/mapped_file.h"
#include "tensor/dtype.h"
#include "util/progress.h"
#include "util/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qs {

struct TensorInfo;

// Where a tensor's values come from when they are not plain bytes in a mapped file (e.g. a
// chunked, compressed HDF5 dataset). Implementations must be safe to call from any thread.
class TensorSource {
public:
    virtual ~TensorSource() = default;
    // Fills `out` (numel floats, row-major).
    virtual Status read(const TensorInfo& t, std::span<float> out) const = 0;
};

struct TensorInfo {
    std::string name;
    std::vector<std::int64_t> shape; // row-major, as PyTorch shows it
    DType dtype = DType::F32;
    std::uint64_t offset = 0; // absolute byte offset in its file
    std::uint64_t nbytes = 0;
    int file = 0;                      // index into Checkpoint::files()
    bool fortranOrder = false;         // .npy column-major data
    bool byteSwapped = false;          // big-endian data (.npy '>f4')
    std::vector<std::int64_t> strides; // in elements; empty = contiguous row-major
    std::string zipMember;             // data inside this deflated ZIP member; offset is then
                                       // relative to the member's uncompressed bytes
    std::shared_ptr<const TensorSource> source; // set: values come from here, not the bytes
    std::string storedType; // set when the stored form is not `dtype` (GGUF "Q4_K", "type 99");
                            // `dtype` is then what decoding yields and `source` decodes

    std::string typeName() const; // storedType, or the dtype's name ("F16")
    // Real storage cost in bits per value: nbytes * 8 / numel (0 when either is 0).
    double bitsPerWeight() const;

    std::int64_t numel() const;
    // 2-D view used by quantizers: [dim0, rest]; 1-D is one row; 0-D is 1x1.
    std::int64_t rows() const;
    std::int64_t cols() const;
    std::string shapeString() const; // "[512, 64]"
};

class Checkpoint {
public:
    // Detects the format from the file's content (not its extension). `progress` hears the
    // fraction of shards opened (sharded checkpoints) and cancels by returning false.
    static Result<Checkpoint> open(const std::string& path, const ProgressFn& progress = {});

    const std::string& path() const { return m_path; }
    const std::string& format() const { return m_format; } // "safetensors", "npy"
    const std::vector<TensorInfo>& tensors() const { return m_tensors; }
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    // JSON files found beside the weights (config.json, generation_config.json), as text.
    const std::map<std::string, std::string>& sidecars() const { return m_sidecars; }
    std::size_t fileCount() const { return m_files.size(); }
    const TensorInfo* find(const std::string& name) const;
    std::int64_t totalParameters() const;
    std::uint64_t totalBytes() const;

    // The tensor's values as float32, row-major (Fortran-order data is transposed back).
    Result<std::vector<float>> readFloat(const TensorInfo& t) const;

    // Streaming large tensors in row chunks ([dim0, rest] rows, see TensorInfo::rows()):
    // possible when the tensor is plain whole-byte elements in a mapped file, row-major and
    // native-endian (most safetensors, GGUF float, .npy and HDF5 contiguous tensors).
    bool canReadRows(const TensorInfo& t) const;
    // Decodes rows [r0, r1) into `out` ((r1 - r0) * cols floats), in parallel for big spans.
    Status readRows(const TensorInfo& t, std::int64_t r0, std::int64_t r1,
                    std::span<float> out) const;
    // Gives back the mapped pages of rows [r0, r1) once they have been read (MappedFile::release).
    void releaseRows(const TensorInfo& t, std::int64_t r0, std::int64_t r1) const;

    // Used by format readers.
    Checkpoint(std::string path, std::string format);
    int addFile(std::shared_ptr<const MappedFile> file);
    void addTensor(TensorInfo t) { m_tensors.push_back(std::move(t)); }
    void setSidecar(std::string name, std::string text) {
        m_sidecars[std::move(name)] = std::move(text);
    }
    // Moves another checkpoint's files and tensors into this one (shards of one model); fails on
    // a tensor name both hold.
    Status absorb(Checkpoint&& other);
    void setMetadata(std::string key, std::string value) {
        m_metadata[std::move(key)] = std::move(value);
    }

private:
    std::string m_path;
    std::string m_format;
    std::vector<std::shared_ptr<const MappedFile>> m_files;
    std::vector<TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
    std::map<std::string, std::string> m_sidecars;
};

// No format needs more dimensions; a header that claims more is rejected.
inline constexpr std::size_t kMaxDims = 64;

// Multiplies dimensions with overflow checking; false if negative, the product overflows or
// there are more than kMaxDims dimensions.
bool checkedNumel(const std::vector<std::int64_t>& shape, std::uint64_t& out);

} // namespace qs
