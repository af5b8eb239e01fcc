#pragma once
// ONNX TensorProto → TensorInfo, without copying any weights: raw_data and single packed
// float_data/double_data fields are read in place from the mapped model, external data in place
// from the mapped side file, and other typed fields (int32_data holding f16/bf16/fp8/int8 bit
// patterns, int64_data, ...) are decoded from the model's bytes when the tensor is read.
// Used by onnx_reader.cpp on the thread that opens the model.

#include "io/checkpoint.h"

#include <map>
#include <optional>

namespace qs {

// TensorProto.DataType → DType (FLOAT8E4M3FN → F8_E4M3, ...); nullopt for types without one
// (STRING, COMPLEX128, INT4/UINT4, UNDEFINED, unknown numbers).
std::optional<DType> onnxDType(std::uint64_t dataType);
// "FLOAT16", "STRING", or "type 42" for numbers this reader does not know.
std::string onnxTypeName(std::uint64_t dataType);

// Reads a StringStringEntryProto (key = 1, value = 2), each cut at 1 MiB; false when malformed.
bool readOnnxStringEntry(std::span<const std::byte> message, std::string& key, std::string& value);

class OnnxTensorReader {
public:
    // `modelIndex` is the model file's index in `ckpt`; side files are added to `ckpt` as needed.
    OnnxTensorReader(Checkpoint& ckpt, std::shared_ptr<const MappedFile> model, int modelIndex);

    // Adds the TensorProto `message` (bytes inside the model file) to the checkpoint as `name`.
    // Malformed tensors are errors naming file and tensor; tensors that are well formed but
    // cannot be shown (unsupported element type, segmented) are listed in unsupported().
    Status add(std::span<const std::byte> message, const std::string& name);
    // "name (STRING)", the first kMaxListed of them, and how many there were in all.
    const std::vector<std::string>& unsupported() const { return m_unsupported; }
    std::size_t unsupportedCount() const { return m_unsupportedCount; }
    static constexpr std::size_t kMaxListed = 100;

private:
    struct TypedField {
        std::uint64_t count = 0;
        int occurrences = 0;
        std::span<const std::byte> packed; // the payload, when it is one packed occurrence
    };
    struct External {
        std::string location, offset, length;
    };
    // Points `t` (name, shape, dtype and nbytes set) at its bytes in a side file.
    Status placeExternal(TensorInfo& t, const External& ext);

    Checkpoint& m_ckpt;
    std::shared_ptr<const MappedFile> m_model;
    int m_modelIndex;
    std::map<std::string, std::pair<int, std::shared_ptr<const MappedFile>>> m_sideFiles;
    std::vector<std::string> m_unsupported;
    std::size_t m_unsupportedCount = 0;
};

} // namespace qs
