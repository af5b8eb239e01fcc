#include "io/onnx_tensor.h"

#include "io/onnx_typed_data.h"
#include "io/protobuf_wire.h"
#include "util/text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>

namespace qs {
namespace {

struct OnnxType {
    std::uint64_t number;
    std::string_view name;
    std::optional<DType> dtype;
};

constexpr std::array kTypes{
    OnnxType{0, "UNDEFINED", std::nullopt},
    OnnxType{1, "FLOAT", DType::F32},
    OnnxType{2, "UINT8", DType::U8},
    OnnxType{3, "INT8", DType::I8},
    OnnxType{4, "UINT16", DType::U16},
    OnnxType{5, "INT16", DType::I16},
    OnnxType{6, "INT32", DType::I32},
    OnnxType{7, "INT64", DType::I64},
    OnnxType{8, "STRING", std::nullopt},
    OnnxType{9, "BOOL", DType::Bool},
    OnnxType{10, "FLOAT16", DType::F16},
    OnnxType{11, "DOUBLE", DType::F64},
    OnnxType{12, "UINT32", DType::U32},
    OnnxType{13, "UINT64", DType::U64},
    OnnxType{14, "COMPLEX64", DType::C64},
    OnnxType{15, "COMPLEX128", std::nullopt},
    OnnxType{16, "BFLOAT16", DType::BF16},
    OnnxType{17, "FLOAT8E4M3FN", DType::F8_E4M3},
    OnnxType{18, "FLOAT8E4M3FNUZ", DType::F8_E4M3FNUZ},
    OnnxType{19, "FLOAT8E5M2", DType::F8_E5M2},
    OnnxType{20, "FLOAT8E5M2FNUZ", DType::F8_E5M2FNUZ},
    OnnxType{21, "UINT4", std::nullopt},
    OnnxType{22, "INT4", std::nullopt},
    OnnxType{23, "FLOAT4E2M1", DType::F4},
    OnnxType{24, "FLOAT8E8M0", DType::F8_E8M0},
};

bool parseCount(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.size() > 20)
        return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

std::string typedFieldName(std::uint32_t field) {
    switch (field) {
    case kFloatData:
        return "float_data";
    case kDoubleData:
        return "double_data";
    case kInt64Data:
        return "int64_data";
    case kUint64Data:
        return "uint64_data";
    default:
        return "int32_data";
    }
}

// Keys and values come from the file: a corrupt length must not become a huge allocation.
constexpr std::size_t kMaxString = 1 << 20;

} // namespace

bool readOnnxStringEntry(std::span<const std::byte> message, std::string& key, std::string& value) {
    pb::WireReader r(message);
    pb::Field f;
    while (r.next(f)) {
        if ((f.number == 1 || f.number == 2) && f.type == pb::WireType::Len)
            (f.number == 1 ? key : value)
                .assign(reinterpret_cast<const char*>(f.bytes.data()),
                        std::min(f.bytes.size(), kMaxString));
    }
    return !r.error();
}

std::optional<DType> onnxDType(std::uint64_t dataType) {
    for (const auto& t : kTypes)
        if (t.number == dataType)
            return t.dtype;
    return std::nullopt;
}

std::string onnxTypeName(std::uint64_t dataType) {
    for (const auto& t : kTypes)
        if (t.number == dataType)
            return std::string(t.name);
    return "type " + std::to_string(dataType);
}

OnnxTensorReader::OnnxTensorReader(Checkpoint& ckpt, std::shared_ptr<const MappedFile> model,
                                   int modelIndex)
    : m_ckpt(ckpt), m_model(std::move(model)), m_modelIndex(modelIndex) {}

Status OnnxTensorReader::add(std::span<const std::byte> message, const std::string& name) {
    auto fail = [&](const std::string& what) {
        return makeError(printableLine(m_model->path() + ": tensor '" + name + "': " + what));
    };
    TensorInfo t;
    t.name = name;
    t.file = m_modelIndex;
    std::uint64_t dataType = 0;
    bool segmented = false;
    bool external = false;
    std::optional<std::span<const std::byte>> raw;
    std::map<std::uint32_t, TypedField> typed;
    External ext;
    pb::WireReader r(message);
    pb::Field f;
    while (r.next(f)) {
        const std::uint32_t n = f.number;
        if (n == kDims) {
            if (f.type == pb::WireType::Varint) {
                t.shape.push_back(static_cast<std::int64_t>(f.value));
            } else if (f.type == pb::WireType::Len) {
                for (std::size_t pos = 0; pos < f.bytes.size();) {
                    std::uint64_t d = 0;
                    if (!pb::readVarint(f.bytes, pos, d) || t.shape.size() > 64)
                        return fail("malformed dims");
                    t.shape.push_back(static_cast<std::int64_t>(d));
                }
            } else {
                return fail("dims has the wrong wire type");
            }
            if (t.shape.size() > 64)
                return fail("more than 64 dimensions");
        } else if (n == kDataType || n == kDataLocation) {
            if (f.type != pb::WireType::Varint)
                return fail("data_type or data_location has the wrong wire type");
            if (n == kDataType)
                dataType = f.value;
            else
                external = f.value == 1; // DataLocation EXTERNAL

        } else if (n == kSegment) {
            segmented = true;
        } else if (n == kRawData) {
            if (f.type != pb::WireType::Len)
                return fail("raw_data has the wrong wire type");
            raw = f.bytes;
        } else if (n == kExternalData) {
            std::string key, value;
            if (f.type != pb::WireType::Len || !readOnnxStringEntry(f.bytes, key, value))
                return fail("malformed external_data entry");
            if (key == "location")
                ext.location = value;
            else if (key == "offset")
                ext.offset = value;
            else if (key == "length")
                ext.length = value;
        } else if (n == kFloatData || n == kInt32Data || n == kInt64Data || n == kDoubleData ||
                   n == kUint64Data) {
            const auto element = n == kFloatData    ? pb::WireType::Fixed32
                                 : n == kDoubleData ? pb::WireType::Fixed64
                                                    : pb::WireType::Varint;
            auto& tf = typed[n];
            std::uint64_t count = 1;
            if (f.type == pb::WireType::Len) {
                if (!pb::countPacked(element, f.bytes, count))
                    return fail("malformed packed values");
                tf.packed = f.bytes;
            } else if (f.type != element) {
                return fail("a typed value field has the wrong wire type");
            } else {
                tf.packed = {};
            }
            tf.count += count;
            ++tf.occurrences;
        }
    }
    if (r.error())
        return fail(r.error());
    for (auto d : t.shape)
        if (d < 0)
            return fail("negative dimension in shape " + t.shapeString());
    const auto dtype = onnxDType(dataType);
    const auto [field, perElement] = dtype ? onnxTypedField(*dtype) : std::pair{0u, 0};
    const bool typedOnly = !external && !raw;
    if (!dtype || segmented || (typedOnly && field == 0)) {
        if (m_unsupported.size() < kMaxListed)
            m_unsupported.push_back(name + " (" +
                                    (segmented ? "segmented" : onnxTypeName(dataType)) + ")");
        ++m_unsupportedCount;
        return Ok{};
    }
    t.dtype = *dtype;
    std::uint64_t numel = 0;
    if (!checkedNumel(t.shape, numel) || numel > UINT64_MAX / 64)
        return fail("shape " + t.shapeString() + " overflows");
    const std::uint64_t nbytes = (numel * static_cast<std::uint64_t>(bitsOf(t.dtype)) + 7) / 8;
    const std::string needs = "shape " + t.shapeString() + " of " + onnxTypeName(dataType) +
                              " needs " + std::to_string(nbytes) + " bytes";
    t.nbytes = nbytes;
    if (external) {
        if (auto st = placeExternal(t, ext); !st)
            return st;
    } else if (raw) {
        if (raw->size() != nbytes)
            return fail("raw_data holds " + std::to_string(raw->size()) + " bytes but " + needs);
        t.offset = static_cast<std::uint64_t>(raw->data() - m_model->bytes().data());
    } else {
        const TypedField& tf = typed[field];
        const std::uint64_t wanted = numel * static_cast<std::uint64_t>(perElement);
        if (tf.count != wanted)
            return fail(onnxTypeName(dataType) + " values in " + typedFieldName(field) + ": " +
                        std::to_string(tf.count) + " stored, shape " + t.shapeString() + " needs " +
                        std::to_string(wanted) +
                        (tf.count == 0 ? " (no raw_data, typed values or external data)" : ""));
        if (tf.occurrences == 1 && tf.packed.data() &&
            (field == kFloatData || field == kDoubleData)) {
            // Packed little-endian floats are laid out exactly like raw_data.
            t.offset = static_cast<std::uint64_t>(tf.packed.data() - m_model->bytes().data());
        } else if (numel > 0) {
            t.source = makeOnnxTypedSource(m_model, message, field);
        }
    }
    m_ckpt.addTensor(std::move(t));
    return Ok{};
}

Status OnnxTensorReader::placeExternal(TensorInfo& t, const External& ext) {
    auto fail = [&](const std::string& what) {
        return makeError(
            printableLine(m_model->path() + ": tensor '" + t.name + "': external data " + what));
    };
    const std::string& loc = ext.location;
    if (loc.empty() || loc.find('\0') != std::string::npos)
        return fail("without a usable location");
    // The model chooses which files get read: keep it to its own directory. Symbolic links
    // are followed (a Hugging Face cache links every file into a blob store).
    const std::filesystem::path rel(loc);
    if (rel.is_absolute() || loc.front() == '/')
        return fail("location '" + loc + "' is an absolute path; it must lie beside the model");
    for (const auto& part : rel)
        if (part == "..")
            return fail("location '" + loc + "' leaves the model's directory");
    std::uint64_t offset = 0;
    if (!ext.offset.empty() && !parseCount(ext.offset, offset))
        return fail("offset '" + ext.offset + "' is not a byte count");
    if (!ext.length.empty()) {
        std::uint64_t length = 0;
        if (!parseCount(ext.length, length))
            return fail("length '" + ext.length + "' is not a byte count");
        if (length != t.nbytes)
            return fail("length " + ext.length + " but shape " + t.shapeString() + " of " +
                        std::string(dtypeName(t.dtype)) + " needs " + std::to_string(t.nbytes) +
                        " bytes");
    }
    auto it = m_sideFiles.find(loc);
    if (it == m_sideFiles.end()) {
        const auto full = std::filesystem::path(m_model->path()).parent_path() / rel;
        std::error_code ec;
        // Only regular files: opening a FIFO would block, a device would never end.
        if (!std::filesystem::is_regular_file(full, ec))
            return fail("file '" + loc + "' is missing (looked for " + full.string() + ")");
        auto file = MappedFile::open(full.string());
        if (!file)
            return fail(file.message());
        const int index = m_ckpt.addFile(*file);
        it = m_sideFiles.emplace(loc, std::pair{index, *file}).first;
    }
    const std::uint64_t size = it->second.second->size();
    if (offset > size || t.nbytes > size - offset)
        return fail("[" + std::to_string(offset) + ", +" + std::to_string(t.nbytes) +
                    ") runs past the end of '" + loc + "' (" + std::to_string(size) + " bytes)");
    t.file = it->second.first;
    t.offset = offset;
    return Ok{};
}

} // namespace qs
