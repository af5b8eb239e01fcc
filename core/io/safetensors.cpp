#include "io/safetensors.h"

#include "util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

namespace qs {
namespace {

constexpr std::uint64_t kMaxHeader = 100'000'000;

std::uint64_t readU64(std::span<const std::byte> b) {
    std::uint64_t v = 0;
    std::memcpy(&v, b.data(), 8);
    return v;
}

} // namespace

bool looksLikeSafetensors(std::span<const std::byte> head, std::uint64_t fileSize) {
    if (head.size() < 9 || fileSize < 10) return false;
    const std::uint64_t n = readU64(head);
    // Recognised by the '{' after a plausible length even when the length is wrong, so a
    // truncated download gets readSafetensors' precise message instead of "unrecognised".
    return n >= 2 && n < (std::uint64_t(1) << 48) && head[8] == std::byte{'{'};
}

Result<Checkpoint> readSafetensors(std::shared_ptr<const MappedFile> file) {
    const std::string& path = file->path();
    auto fail = [&](const std::string& what) {
        return makeError(printableLine(path + ": " + what));
    };
    const auto bytes = file->bytes();
    if (bytes.size() < 8) return fail("file too short for a safetensors header");
    const std::uint64_t n = readU64(bytes);
    if (n > kMaxHeader)
        return fail("safetensors header length " + std::to_string(n) + " exceeds the 100 MB limit");
    if (n > bytes.size() - 8)
        return fail("safetensors header length " + std::to_string(n) +
                    " runs past the end of the file (" + std::to_string(bytes.size()) +
                    " bytes): truncated, e.g. an interrupted download?");
    std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<size_t>(n));
    if (text.empty() || text.front() != '{')
        return fail("safetensors header does not start with '{'");

    std::set<std::string> keys;
    std::string duplicate;
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(
            text.begin(), text.end(),
            [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
                if (depth == 1 && ev == nlohmann::json::parse_event_t::key &&
                    !keys.insert(parsed.get<std::string>()).second && duplicate.empty())
                    duplicate = parsed.get<std::string>();
                return true;
            });
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string("malformed safetensors JSON header: ") + e.what());
    }
    if (!duplicate.empty())
        return fail("duplicate tensor name '" + duplicate + "' in safetensors header");
    if (!header.is_object()) return fail("safetensors header is not a JSON object");

    Checkpoint ckpt(path, "safetensors");
    const int fileIndex = ckpt.addFile(file);
    const std::uint64_t dataStart = 8 + n;
    const std::uint64_t dataSize = bytes.size() - dataStart;

    struct Span {
        std::uint64_t begin, end;
        std::string name;
    };
    std::vector<Span> spans;
    std::vector<TensorInfo> infos;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const auto& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object()) return fail("__metadata__ must be an object of strings");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    return fail("__metadata__ value for '" + m.key() + "' is not a string");
                ckpt.setMetadata(m.key(), m.value().get<std::string>());
            }
            continue;
        }
        const std::string where = "tensor '" + name + "'";
        if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
            !v.contains("data_offsets"))
            return fail(where + " needs dtype, shape and data_offsets");
        if (!v["dtype"].is_string()) return fail(where + ": dtype is not a string");
        const auto dtype = dtypeFromName(v["dtype"].get<std::string>());
        if (!dtype) return fail(where + ": unknown dtype '" + v["dtype"].get<std::string>() + "'");
        TensorInfo t;
        t.name = name;
        t.dtype = *dtype;
        t.file = fileIndex;
        if (!v["shape"].is_array()) return fail(where + ": shape is not a list");
        if (v["shape"].size() > kMaxDims)
            return fail(where + ": " + std::to_string(v["shape"].size()) +
                        " dimensions (at most " + std::to_string(kMaxDims) + ")");
        for (const auto& d : v["shape"]) {
            if (!d.is_number_unsigned())
                return fail(where + ": shape entries must be non-negative integers");
            const auto dim = d.get<std::uint64_t>();
            if (dim > static_cast<std::uint64_t>(INT64_MAX))
                return fail(where + ": dimension too large");
            t.shape.push_back(static_cast<std::int64_t>(dim));
        }
        std::uint64_t numel = 0;
        if (!checkedNumel(t.shape, numel) || numel > UINT64_MAX / 64)
            return fail(where + ": shape " + t.shapeString() + " overflows");
        const std::uint64_t bits = numel * static_cast<std::uint64_t>(bitsOf(t.dtype));
        if (bits % 8 != 0)
            return fail(where + ": " + std::to_string(numel) + " elements of " +
                        std::string(dtypeName(t.dtype)) + " do not fill whole bytes");
        const auto& off = v["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
            !off[1].is_number_unsigned())
            return fail(where + ": data_offsets must be two non-negative integers");
        const auto begin = off[0].get<std::uint64_t>();
        const auto end = off[1].get<std::uint64_t>();
        if (end < begin) return fail(where + ": data_offsets end before they begin");
        if (end - begin != bits / 8)
            return fail(where + ": data_offsets span " + std::to_string(end - begin) +
                        " bytes but shape and dtype need " + std::to_string(bits / 8));
        if (end > dataSize) return fail(where + ": data runs past the end of the file");
        t.offset = dataStart + begin;
        t.nbytes = end - begin;
        spans.push_back({begin, end, name});
        infos.push_back(std::move(t));
    }
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t expected = 0;
    for (const auto& s : spans) {
        if (s.begin != expected)
            return fail(s.begin < expected
                            ? "tensor '" + s.name + "' overlaps another tensor's data"
                            : "hole in the data buffer before tensor '" + s.name + "'");
        expected = s.end;
    }
    if (expected != dataSize)
        return fail("data buffer has " + std::to_string(dataSize - expected) +
                    " trailing bytes not owned by any tensor");
    // Present tensors in file order, as tools that write safetensors lay them out.
    std::sort(infos.begin(), infos.end(),
              [](const TensorInfo& a, const TensorInfo& b) { return a.offset < b.offset; });
    for (auto& t : infos)
        ckpt.addTensor(std::move(t));
    return ckpt;
}

} // namespace qs
