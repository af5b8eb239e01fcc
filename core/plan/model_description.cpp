// The model side of the memory planner: weights from config.json, a checkpoint or a count.

#include "plan/memory_model.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace qs {

namespace {

std::uint64_t numelOf(const std::vector<std::int64_t>& shape) {
    std::uint64_t n = 1;
    for (auto d : shape)
        n *= static_cast<std::uint64_t>(std::max<std::int64_t>(d, 0));
    return n;
}

std::uint64_t ceilDiv(std::uint64_t a, std::uint64_t b) {
    return (a + b - 1) / b;
}

// DeepSeek-V3 ships its attention and expert matrices as fp8 e4m3 with one fp32 scale per
// 128 x 128 block (weight_scale_inv); embeddings, the head, norms and routers stay bf16.
bool storedAsFp8(const ModelArchitecture& a, const ModelWeight& w) {
    return a.fp8BlockRows > 0 && a.fp8BlockCols > 0 && w.shape.size() == 2 &&
           (w.role == TensorRole::Attention || w.role == TensorRole::Mlp) && !isRouter(w.name);
}

// A single weights file (model.safetensors) with its config.json in the same folder.
std::optional<std::string> configBesideFile(const std::string& path) {
    std::error_code ec;
    const std::filesystem::path p(path);
    if (!std::filesystem::is_regular_file(p, ec))
        return std::nullopt;
    const auto config = p.parent_path() / "config.json";
    if (!std::filesystem::is_regular_file(config, ec))
        return std::nullopt;
    if (std::filesystem::file_size(config, ec) > (16u << 20))
        return std::nullopt;
    std::ifstream f(config, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (!f && !f.eof())
        return std::nullopt;
    return ss.str();
}

} // namespace

std::uint64_t ModelWeight::numel() const {
    return numelOf(shape);
}

Result<ModelDescription> describeConfig(std::string_view configJson, bool includeMtp) {
    auto arch = parseArchitecture(configJson);
    if (!arch)
        return arch.error();
    const ModelArchitecture& a = *arch;
    ModelDescription d;
    d.source = "config";
    for (const ArchTensor& t : architectureTensors(a, true)) {
        if (t.mtp && !includeMtp) {
            d.mtpParams += numelOf(t.shape);
            continue;
        }
        ModelWeight w;
        w.name = t.name;
        w.shape = t.shape;
        w.role = classifyTensor(t.name);
        w.dtype = a.dtype;
        w.storedBits = w.numel() * static_cast<std::uint64_t>(bitsOf(a.dtype));
        if (storedAsFp8(a, w)) {
            w.dtype = DType::F8_E4M3;
            w.storedBits = w.numel() * 8 +
                           ceilDiv(static_cast<std::uint64_t>(w.shape[0]), a.fp8BlockRows) *
                               ceilDiv(static_cast<std::uint64_t>(w.shape[1]), a.fp8BlockCols) * 32;
        }
        d.params += w.numel();
        d.weights.push_back(std::move(w));
    }
    if (a.languageModelOnly)
        d.notes.push_back("a multimodal config: only the language model (text_config) is counted");
    if (a.dtypeGuessed)
        d.notes.push_back("config.json names no torch_dtype: bf16 assumed");
    if (a.fp8BlockRows > 0)
        d.notes.push_back("stored as the config's quantization_config says: fp8 e4m3 attention "
                          "and expert matrices with an fp32 scale per " +
                          std::to_string(a.fp8BlockRows) + "x" + std::to_string(a.fp8BlockCols) +
                          " block");
    if (d.mtpParams > 0)
        d.notes.push_back("the multi-token-prediction module (" + std::to_string(d.mtpParams) +
                          " parameters as the checkpoint stores it) is not counted: inference "
                          "engines leave it out unless they decode speculatively");
    d.arch = std::move(arch).value();
    return d;
}

ModelDescription describeCheckpoint(const Checkpoint& ckpt) {
    ModelDescription d;
    d.source = "checkpoint";
    for (const TensorInfo& t : ckpt.tensors()) {
        ModelWeight w;
        w.name = t.name;
        w.shape = t.shape;
        w.dtype = t.dtype;
        w.storedBits = t.nbytes * 8;
        w.role = classifyTensor(t.name);
        d.params += w.numel();
        d.weights.push_back(std::move(w));
    }
    std::optional<std::string> config;
    if (auto it = ckpt.sidecars().find("config.json"); it != ckpt.sidecars().end())
        config = it->second;
    else
        config = configBesideFile(ckpt.path());
    if (config) {
        auto a = parseArchitecture(*config);
        if (a)
            d.arch = std::move(a).value();
        else
            d.notes.push_back("config.json beside the weights: " + a.message());
    } else if (ckpt.format() == "gguf") {
        auto a = architectureFromGguf(ckpt.metadata());
        if (a)
            d.arch = std::move(a).value();
        else
            d.notes.push_back(a.message());
    }
    if (!d.arch)
        d.notes.push_back("no config.json beside the weights: the KV cache and activations "
                          "need the architecture (pass --config)");
    return d;
}

ModelDescription describeParameterCount(std::uint64_t params, DType dtype) {
    ModelDescription d;
    d.source = "parameter count";
    d.params = params;
    d.countDtype = dtype;
    d.notes.push_back("only a parameter count: no KV cache or activations without an "
                      "architecture (pass --config); a scheme is priced on 4096-wide rows");
    return d;
}

} // namespace qs
