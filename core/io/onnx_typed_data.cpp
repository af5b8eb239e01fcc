#include "io/onnx_typed_data.h"

#include "io/protobuf_wire.h"
#include "util/text.h"

#include <bit>
#include <cstring>

namespace qs {
namespace {

// One value of the typed field `field` as a float; false when it does not fit the element type.
bool typedToFloat(std::uint32_t field, DType t, std::uint64_t raw, float& out) {
    switch (field) {
    case kFloatData:
        out = std::bit_cast<float>(static_cast<std::uint32_t>(raw));
        return true;
    case kDoubleData:
        out = static_cast<float>(std::bit_cast<double>(raw));
        return true;
    case kInt64Data:
        out = static_cast<float>(static_cast<std::int64_t>(raw));
        return true;
    case kUint64Data:
        out = static_cast<float>(raw);
        return t == DType::U64 || raw <= UINT32_MAX;
    default:
        break;
    }
    // int32_data: protobuf truncates the (sign-extended) varint to 32 bits. Bit patterns of
    // 16- and 8-bit floats are accepted as unsigned or as sign-extended values.
    const auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
    auto within = [&](std::int64_t lo, std::int64_t hi) { return v >= lo && v <= hi; };
    const auto u16 = static_cast<std::uint16_t>(v);
    const auto u8 = static_cast<std::uint8_t>(v);
    switch (t) {
    case DType::F16:
        out = halfToFloat(u16);
        return within(-32768, 65535);
    case DType::BF16:
        out = bf16ToFloat(u16);
        return within(-32768, 65535);
    case DType::F8_E4M3:
        out = fp8E4M3ToFloat(u8);
        return within(-128, 255);
    case DType::F8_E5M2:
        out = fp8E5M2ToFloat(u8);
        return within(-128, 255);
    case DType::F8_E4M3FNUZ:
        out = fp8E4M3FnuzToFloat(u8);
        return within(-128, 255);
    case DType::F8_E5M2FNUZ:
        out = fp8E5M2FnuzToFloat(u8);
        return within(-128, 255);
    case DType::F8_E8M0:
        out = e8m0ToFloat(u8);
        return within(-128, 255);
    case DType::Bool:
        out = v != 0 ? 1.0f : 0.0f;
        return true;
    case DType::I8:
        out = static_cast<float>(v);
        return within(-128, 127);
    case DType::U8:
        out = static_cast<float>(v);
        return within(0, 255);
    case DType::I16:
        out = static_cast<float>(v);
        return within(-32768, 32767);
    case DType::U16:
        out = static_cast<float>(v);
        return within(0, 65535);
    default:
        out = static_cast<float>(v);
        return true;
    }
}

// Values kept in a typed field that cannot be read in place: the TensorProto's bytes in the
// mapped model are walked again on each read, so nothing is held in memory between reads.
class TypedSource final : public TensorSource {
public:
    TypedSource(std::shared_ptr<const MappedFile> model, std::span<const std::byte> message,
                std::uint32_t field)
        : m_model(std::move(model)), m_message(message), m_field(field) {}

    Status read(const TensorInfo& t, std::span<float> out) const override {
        auto fail = [&](const std::string& what) {
            return makeError(printableLine(m_model->path() + ": tensor '" + t.name + "': " + what));
        };
        const bool varints =
            m_field == kInt32Data || m_field == kInt64Data || m_field == kUint64Data;
        const std::size_t width = m_field == kFloatData ? 4 : 8;
        std::size_t n = 0;
        auto put = [&](std::uint64_t raw) {
            if (n < out.size() && !typedToFloat(m_field, t.dtype, raw, out[n]))
                return false;
            ++n;
            return true;
        };
        pb::WireReader r(m_message);
        pb::Field f;
        while (r.next(f)) {
            if (f.number != m_field)
                continue;
            if (f.type != pb::WireType::Len) {
                if (!put(f.value))
                    return fail("a value does not fit " + std::string(dtypeName(t.dtype)));
                continue;
            }
            for (std::size_t pos = 0; pos < f.bytes.size();) {
                std::uint64_t raw = 0;
                if (varints) {
                    if (!pb::readVarint(f.bytes, pos, raw))
                        return fail("malformed packed values");
                } else {
                    if (f.bytes.size() - pos < width)
                        return fail("malformed packed values");
                    std::memcpy(&raw, f.bytes.data() + pos, width);
                    pos += width;
                }
                if (!put(raw))
                    return fail("a value does not fit " + std::string(dtypeName(t.dtype)));
            }
        }
        if (r.error())
            return fail(r.error());
        if (n != out.size())
            return fail("holds " + std::to_string(n) + " values, not " +
                        std::to_string(out.size()));
        return Ok{};
    }

private:
    std::shared_ptr<const MappedFile> m_model;
    std::span<const std::byte> m_message;
    std::uint32_t m_field;
};

} // namespace

std::pair<std::uint32_t, int> onnxTypedField(DType t) {
    switch (t) {
    case DType::F32:
        return {kFloatData, 1};
    case DType::C64:
        return {kFloatData, 2};
    case DType::F64:
        return {kDoubleData, 1};
    case DType::I64:
        return {kInt64Data, 1};
    case DType::U32:
    case DType::U64:
        return {kUint64Data, 1};
    case DType::F4: // packed two per int32 in newer ONNX; too rare to be worth a decoder
        return {0, 0};
    default:
        return {kInt32Data, 1};
    }
}

std::shared_ptr<const TensorSource> makeOnnxTypedSource(std::shared_ptr<const MappedFile> model,
                                                        std::span<const std::byte> message,
                                                        std::uint32_t field) {
    return std::make_shared<TypedSource>(std::move(model), message, field);
}

} // namespace qs
