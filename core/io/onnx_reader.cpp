#include "io/onnx_reader.h"

#include "io/onnx_tensor.h"
#include "io/protobuf_wire.h"
#include "util/text.h"

#include <algorithm>
#include <set>

namespace qs {
namespace {

// Field numbers from onnx.proto.
enum ModelField : std::uint32_t {
    kIrVersion = 1,
    kModelVersion = 5,
    kGraph = 7,
    kOpsetImport = 8,
    kMetadataProps = 14,
};
enum GraphField : std::uint32_t { kNode = 1, kGraphName = 2, kInitializer = 5, kSparse = 15 };
enum NodeField : std::uint32_t { kOutput = 2, kNodeName = 3, kOpType = 4, kAttribute = 5 };
enum AttributeField : std::uint32_t {
    kAttrName = 1,
    kAttrTensor = 5,
    kAttrGraph = 6,
    kAttrGraphs = 11,
    kAttrSparse = 22,
};
constexpr std::uint32_t kNodeDomain = 7;
constexpr std::uint32_t kTensorName = 8;

// Subgraphs nest through recursion; a hostile file must not exhaust the stack.
constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxText = 4096;

bool knownModelField(std::uint64_t number, std::uint64_t wireType) {
    switch (number) {
    case kIrVersion:
    case kModelVersion:
        return wireType == 0;
    case 2: // producer_name
    case 3: // producer_version
    case 4: // domain
    case 6: // doc_string
    case kGraph:
    case kOpsetImport:
    case kMetadataProps:
    case 20: // training_info
    case 25: // functions
        return wireType == 2;
    default:
        return false;
    }
}

// Names and metadata shown to a person: capped so that a corrupt length costs nothing.
std::string text(std::span<const std::byte> b) {
    std::string s(reinterpret_cast<const char*>(b.data()), std::min(b.size(), kMaxText));
    return b.size() > kMaxText ? s + "..." : s;
}

class GraphWalker {
public:
    GraphWalker(std::string path, OnnxTensorReader& tensors)
        : m_path(std::move(path)), m_tensors(tensors) {}

    Status graph(std::span<const std::byte> bytes, const std::string& prefix, int depth);
    const std::string& graphName() const { return m_graphName; }
    std::size_t sparseCount() const { return m_sparse; }

private:
    Status node(std::span<const std::byte> bytes, const std::string& prefix, int depth,
                std::size_t index);
    Status attribute(std::span<const std::byte> bytes, const std::string& prefix, int depth,
                     bool constant, const std::string& label, const std::string& output);
    Status add(std::span<const std::byte> tensor, const std::string& name) {
        if (!m_names.insert(name).second)
            return fail("duplicate tensor name '" + name + "'");
        return m_tensors.add(tensor, name);
    }
    Error fail(const std::string& what) const {
        return makeError(printableLine(m_path + ": " + what));
    }

    std::string m_path;
    OnnxTensorReader& m_tensors;
    std::set<std::string> m_names;
    std::string m_graphName;
    std::size_t m_sparse = 0;
};

Status GraphWalker::graph(std::span<const std::byte> bytes, const std::string& prefix, int depth) {
    if (depth > kMaxDepth)
        return fail("subgraphs nested deeper than " + std::to_string(kMaxDepth) + " levels");
    pb::WireReader r(bytes);
    pb::Field f;
    std::size_t nodes = 0, initializers = 0;
    while (r.next(f)) {
        if (f.type != pb::WireType::Len)
            continue;
        if (f.number == kNode) {
            if (auto st = node(f.bytes, prefix, depth, nodes++); !st)
                return st;
        } else if (f.number == kInitializer) {
            std::string name;
            pb::WireReader t(f.bytes);
            pb::Field tf;
            while (t.next(tf))
                if (tf.number == kTensorName && tf.type == pb::WireType::Len)
                    name = text(tf.bytes);
            if (name.empty())
                name = "initializer_" + std::to_string(initializers);
            ++initializers;
            if (auto st = add(f.bytes, prefix + name); !st)
                return st;
        } else if (f.number == kSparse) {
            ++m_sparse;
        } else if (f.number == kGraphName && depth == 0) {
            m_graphName = text(f.bytes);
        }
    }
    if (r.error())
        return fail(std::string("malformed graph") + (prefix.empty() ? "" : " '" + prefix + "'") +
                    ": " + r.error());
    return Ok{};
}

Status GraphWalker::node(std::span<const std::byte> bytes, const std::string& prefix, int depth,
                         std::size_t index) {
    std::string opType, domain, name, output;
    bool sawOutput = false;
    std::vector<std::span<const std::byte>> attributes;
    pb::WireReader r(bytes);
    pb::Field f;
    // Fields may come in any order: collect first, then look at the attributes.
    while (r.next(f)) {
        if (f.type != pb::WireType::Len)
            continue;
        if (f.number == kOutput && !sawOutput) {
            output = text(f.bytes);
            sawOutput = true;
        } else if (f.number == kNodeName) {
            name = text(f.bytes);
        } else if (f.number == kOpType) {
            opType = text(f.bytes);
        } else if (f.number == kNodeDomain) {
            domain = text(f.bytes);
        } else if (f.number == kAttribute) {
            attributes.push_back(f.bytes);
        }
    }
    const std::string label = !name.empty()     ? name
                              : !output.empty() ? output
                                                : opType + "_" + std::to_string(index);
    if (r.error())
        return fail("malformed node '" + prefix + label + "': " + r.error());
    const bool constant = opType == "Constant" && (domain.empty() || domain == "ai.onnx");
    for (auto a : attributes)
        if (auto st = attribute(a, prefix, depth, constant, label, output); !st)
            return st;
    return Ok{};
}

Status GraphWalker::attribute(std::span<const std::byte> bytes, const std::string& prefix,
                              int depth, bool constant, const std::string& label,
                              const std::string& output) {
    std::string name;
    std::optional<std::span<const std::byte>> tensor;
    std::vector<std::span<const std::byte>> graphs; // `g`, then the entries of `graphs`
    bool single = false;
    pb::WireReader r(bytes);
    pb::Field f;
    while (r.next(f)) {
        if (f.type != pb::WireType::Len)
            continue;
        if (f.number == kAttrName)
            name = text(f.bytes);
        else if (f.number == kAttrTensor)
            tensor = f.bytes;
        else if (f.number == kAttrGraph || f.number == kAttrGraphs) {
            graphs.push_back(f.bytes);
            single = single || f.number == kAttrGraph;
        } else if (f.number == kAttrSparse && constant)
            ++m_sparse;
    }
    if (r.error())
        return fail("malformed attribute of node '" + prefix + label + "': " + r.error());
    if (constant && name == "value" && tensor)
        if (auto st = add(*tensor, prefix + (output.empty() ? label : output)); !st)
            return st;
    for (std::size_t i = 0; i < graphs.size(); ++i) {
        const std::string sub = prefix + label + "/" + name +
                                (single && graphs.size() == 1 ? "" : "." + std::to_string(i)) + "/";
        if (auto st = graph(graphs[i], sub, depth + 1); !st)
            return st;
    }
    return Ok{};
}

} // namespace

bool looksLikeOnnx(std::span<const std::byte> bytes) {
    // Serializers write fields in number order: ir_version (tag 0x08, a small varint) comes
    // first. Claiming the file on that prefix lets a truncated model get an ONNX error.
    std::size_t pos = 0;
    std::uint64_t tag = 0, version = 0;
    if (pb::readVarint(bytes, pos, tag) && tag == 0x08 && pb::readVarint(bytes, pos, version) &&
        version >= 1 && version <= 1000 && pb::readVarint(bytes, pos, tag) &&
        tag >> 3 != kIrVersion && knownModelField(tag >> 3, tag & 7))
        return true;
    pb::WireReader r(bytes);
    pb::Field f;
    bool irVersion = false, graph = false;
    while (r.next(f)) {
        if (!knownModelField(f.number, static_cast<std::uint64_t>(f.type)))
            return false;
        irVersion = irVersion || f.number == kIrVersion;
        graph = graph || f.number == kGraph;
    }
    return !r.error() && irVersion && graph;
}

Result<Checkpoint> readOnnx(std::shared_ptr<const MappedFile> file) {
    const std::string& path = file->path();
    auto fail = [&](const std::string& what) {
        return makeError(printableLine(path + ": " + what));
    };
    Checkpoint ckpt(path, "onnx");
    const int index = ckpt.addFile(file);
    std::map<std::string, std::string> info, props;
    std::string opsets;
    // Protobuf merges repeated occurrences of a message field; walking each graph occurrence
    // with the same prefix does the same for initializers and nodes.
    std::vector<std::span<const std::byte>> graphs;
    pb::WireReader r(file->bytes());
    pb::Field f;
    while (r.next(f)) {
        const bool len = f.type == pb::WireType::Len;
        switch (f.number) {
        case kIrVersion:
            info["ir_version"] = std::to_string(f.value);
            break;
        case kModelVersion:
            info["model_version"] = std::to_string(f.value);
            break;
        case 2:
        case 3:
        case 4:
            if (len)
                info[f.number == 2   ? "producer_name"
                     : f.number == 3 ? "producer_version"
                                     : "domain"] = text(f.bytes);
            break;
        case kGraph:
            if (len)
                graphs.push_back(f.bytes);
            break;
        case kOpsetImport: {
            if (!len)
                break;
            std::string domain;
            std::uint64_t version = 0;
            pb::WireReader o(f.bytes);
            pb::Field of;
            while (o.next(of)) {
                if (of.number == 1 && of.type == pb::WireType::Len)
                    domain = text(of.bytes);
                else if (of.number == 2 && of.type == pb::WireType::Varint)
                    version = of.value;
            }
            if (o.error())
                return fail(std::string("malformed opset_import: ") + o.error());
            if (opsets.size() < kMaxText)
                opsets += (opsets.empty() ? "" : ", ") + (domain.empty() ? "ai.onnx" : domain) +
                          " " + std::to_string(version);
            break;
        }
        case kMetadataProps: {
            std::string key, value;
            if (!len || !readOnnxStringEntry(f.bytes, key, value))
                return fail("malformed metadata_props entry");
            if (props.size() < 10'000)
                props[key] = text(std::as_bytes(std::span(value)));
            break;
        }
        default:
            break;
        }
    }
    if (r.error())
        return fail(std::string("not a valid ONNX model: ") + r.error());
    if (graphs.empty())
        return fail("an ONNX model without a graph");

    OnnxTensorReader tensors(ckpt, file, index);
    GraphWalker walker(path, tensors);
    for (auto g : graphs)
        if (auto st = walker.graph(g, "", 0); !st)
            return st.error();

    if (!opsets.empty())
        info["opset_import"] = opsets;
    if (!walker.graphName().empty())
        info["graph_name"] = walker.graphName();
    if (tensors.unsupportedCount()) {
        std::string list;
        for (const auto& u : tensors.unsupported())
            list += (list.empty() ? "" : ", ") + u;
        if (tensors.unsupportedCount() > tensors.unsupported().size())
            list += ", ...";
        info["unsupported_tensors"] = std::to_string(tensors.unsupportedCount()) + ": " + list;
    }
    if (walker.sparseCount())
        info["skipped_sparse_tensors"] = std::to_string(walker.sparseCount());
    // metadata_props are the model author's; the reader's own keys win a clash.
    for (auto& [k, v] : props)
        ckpt.setMetadata(info.count(k) ? "metadata_props." + k : k, v);
    for (auto& [k, v] : info)
        ckpt.setMetadata(k, v);
    return ckpt;
}

} // namespace qs
