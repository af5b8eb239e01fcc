#include "plan/memory_model.h"

#include "plan/scheme_cost.h"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

namespace qs {

namespace {

constexpr std::uint64_t kActivationBytes = 2; // bf16/f16 activations
constexpr std::uint64_t kLogitBytes = 4;      // logits are upcast to fp32
constexpr std::int64_t kCountRowWidth = 4096; // a count-only model is priced on such rows

std::uint64_t ceilDiv(std::uint64_t a, std::uint64_t b) {
    return (a + b - 1) / b;
}

std::int64_t rowsOf(const std::vector<std::int64_t>& shape) {
    return shape.empty() ? 1 : shape.size() == 1 ? 1 : shape[0];
}

std::int64_t colsOf(const std::vector<std::int64_t>& shape) {
    if (shape.empty())
        return 1;
    if (shape.size() == 1)
        return shape[0];
    std::int64_t c = 1;
    for (size_t i = 1; i < shape.size(); ++i)
        c *= shape[i];
    return c;
}

// The module a weight belongs to, as PEFT's target_modules names it: the name's last component
// before ".weight"/".bias" ("model.layers.0.self_attn.q_proj.weight" -> "q_proj").
std::string moduleName(const std::string& name) {
    std::string n = name;
    for (const char* suffix : {".weight", ".bias"})
        if (n.size() > std::string(suffix).size() && n.ends_with(suffix))
            n.resize(n.size() - std::string(suffix).size());
    const auto dot = n.rfind('.');
    return dot == std::string::npos ? n : n.substr(dot + 1);
}

bool isLoraTarget(const ModelWeight& w, const std::vector<std::string>& targets) {
    if (w.shape.size() != 2)
        return false;
    if (targets.empty())
        return (w.role == TensorRole::Attention || w.role == TensorRole::Mlp) && !isRouter(w.name);
    return std::find(targets.begin(), targets.end(), moduleName(w.name)) != targets.end();
}

// Per token, the 16-bit values one layer produces on the way through (its working set).
std::uint64_t layerActivationElements(const ModelArchitecture& a, std::int64_t layer) {
    const std::int64_t h = a.hiddenSize;
    std::int64_t attn = 3 * h + a.numHeads * a.headDim + a.numHeads * a.vHeadDim;
    if (a.isMla())
        attn += a.kvLoraRank + a.qkRopeHeadDim + a.qLoraRank +
                a.numHeads * (a.qkNopeHeadDim + a.vHeadDim);
    else
        attn += a.numKvHeads * (a.headDim + a.vHeadDim);
    std::int64_t mlp = h + 3 * a.intermediateSize;
    if (a.isMoeLayer(layer)) {
        mlp = h + a.numExperts + 3 * a.expertsPerToken * a.moeIntermediateSize +
              3 * (a.numSharedExperts * a.moeIntermediateSize + a.sharedExpertIntermediateSize);
    }
    return static_cast<std::uint64_t>(attn + mlp);
}

struct WeightPricing {
    std::uint64_t bits = 0;
    std::uint64_t quantizedParams = 0;
    std::map<TensorRole, RoleBytes> byRole;
};

Result<WeightPricing> priceWeights(const ModelDescription& m, const MemoryOptions& o,
                                   std::vector<std::string>& notes) {
    WeightPricing out;
    std::optional<Scheme> base = o.scheme;
    if (o.mode == MemoryMode::Qlora && !base)
        base = *Scheme::parse("nf4:g64:dq");
    std::unordered_map<std::string, Scheme> planSpecs;
    std::optional<Scheme> planDefault;
    if (o.plan) {
        for (const auto& [name, spec] : o.plan->tensors)
            if (auto s = Scheme::parse(spec))
                planSpecs.emplace(name, *s);
        if (!o.plan->defaultSpec.empty())
            if (auto s = Scheme::parse(o.plan->defaultSpec))
                planDefault = *s;
    }
    SchemeCostCache cache;
    std::map<std::string, std::uint64_t> fallbacks; // "q4_k -> q5_0" -> tensors
    std::map<std::string, std::uint64_t> stuck;     // "q4_0" -> tensors llama.cpp cannot make
    std::uint64_t named = 0, byDefault = 0;         // the plan's names found; default-priced
    std::uint64_t keptForQlora = 0;                 // embedding/output parameters QLoRA keeps
    for (const ModelWeight& w : m.weights) {
        std::optional<Scheme> s;
        const bool matrix = w.shape.size() >= 2;
        if (o.plan) {
            if (auto it = planSpecs.find(w.name); it != planSpecs.end()) {
                s = it->second;
                ++named;
            } else if (matrix) {
                s = planDefault;
                byDefault += planDefault ? 1 : 0;
            }
        } else if (base && matrix && o.mode != MemoryMode::Train) {
            // QLoRA quantizes the Linear layers of the base (bitsandbytes replaces nn.Linear);
            // the embeddings and the output layer stay as stored, whatever format is asked.
            const bool linear = w.role != TensorRole::Embedding && w.role != TensorRole::Output;
            if (o.mode != MemoryMode::Qlora || linear)
                s = base;
            else
                keptForQlora += w.numel();
        }
        std::uint64_t bits = w.storedBits;
        if (s) {
            auto c = cache.cost(*s, rowsOf(w.shape), colsOf(w.shape));
            if (c) {
                bits = c->cost.totalBits();
                out.quantizedParams += w.numel();
                if (!(c->scheme == *s))
                    ++fallbacks[s->toString() + " -> " + c->scheme.toString()];
            } else if (c.error().kind == ErrorKind::NotApplicable) {
                ++stuck[s->toString()]; // priced as stored, and said below
            } else {
                return makeError(w.name + " under " + s->toString() + ": " + c.message());
            }
        }
        out.bits += bits;
        auto& rb = out.byRole[w.role];
        rb.role = w.role;
        rb.params += w.numel();
        rb.bytes += ceilDiv(bits, 8);
    }
    for (const auto& [what, count] : fallbacks)
        notes.push_back(std::to_string(count) + " tensors fall back as llama.cpp would (" + what +
                        "): the block does not divide their rows");
    if (keptForQlora > 0)
        notes.push_back(std::to_string(keptForQlora) +
                        " parameters of the embeddings and output layer stay as stored: QLoRA "
                        "quantizes the base's Linear layers only");
    for (const auto& [spec, count] : stuck)
        notes.push_back(std::to_string(count) + " tensors priced as stored: " + spec +
                        "'s block does not divide their rows and llama.cpp has no fallback for "
                        "it (llama-quantize stops)");
    // A plan made for another model (or another naming) still prices, by its default: said.
    if (o.plan && (named < o.plan->tensors.size() || byDefault > 0)) {
        std::string note = "the plan does not fit this model: ";
        if (named < o.plan->tensors.size())
            note +=
                std::to_string(o.plan->tensors.size() - named) + " of its tensors are not in it; ";
        note += std::to_string(byDefault) + " of the model's matrices are not in the plan and " +
                "take its default " + o.plan->defaultSpec;
        notes.push_back(note);
    }
    return out;
}

} // namespace

std::string_view memoryModeName(MemoryMode m) {
    switch (m) {
    case MemoryMode::Inference:
        return "inference";
    case MemoryMode::Train:
        return "train";
    case MemoryMode::Lora:
        return "lora";
    case MemoryMode::Qlora:
        return "qlora";
    }
    return "inference";
}

std::optional<MemoryMode> memoryModeFromName(std::string_view name) {
    for (auto m : {MemoryMode::Inference, MemoryMode::Train, MemoryMode::Lora, MemoryMode::Qlora})
        if (memoryModeName(m) == name)
            return m;
    return std::nullopt;
}

std::string_view kvDtypeName(KvDtype t) {
    constexpr std::array kNames = {"f16", "bf16", "fp8", "q8_0", "q4_0"};
    return kNames[static_cast<size_t>(t)];
}

std::optional<KvDtype> kvDtypeFromName(std::string_view name) {
    for (auto t : {KvDtype::F16, KvDtype::BF16, KvDtype::FP8, KvDtype::Q8_0, KvDtype::Q4_0})
        if (kvDtypeName(t) == name)
            return t;
    return std::nullopt;
}

double kvDtypeBits(KvDtype t) {
    // ggml: q8_0 = 32 int8 + an f16 scale per 32; q4_0 = 32 nibbles + an f16 scale per 32.
    constexpr std::array kBits = {16.0, 16.0, 8.0, 8.5, 4.5};
    return kBits[static_cast<size_t>(t)];
}

Result<MemoryEstimate> estimateMemory(const ModelDescription& m, const MemoryOptions& o) {
    if (o.context <= 0 || o.batch <= 0)
        return makeError("context and batch must be positive");
    if (o.mode == MemoryMode::Train && (o.scheme || o.plan))
        return makeError("full training keeps the weights at their stored precision: a scheme "
                         "or plan applies to inference, lora and qlora");
    MemoryEstimate e;
    e.mode = o.mode;
    e.params = m.params;
    e.notes = m.notes;

    // Weights.
    if (m.weights.empty()) {
        std::uint64_t bits = m.params * static_cast<std::uint64_t>(bitsOf(m.countDtype));
        std::optional<Scheme> s = o.scheme;
        if (o.mode == MemoryMode::Qlora && !s)
            s = *Scheme::parse("nf4:g64:dq");
        if (s && o.mode != MemoryMode::Train) {
            auto c = resolvedStorageCost(*s, kCountRowWidth, kCountRowWidth);
            if (!c)
                return makeError(s->toString() + ": " + c.message());
            bits =
                static_cast<std::uint64_t>(c->cost.bitsPerWeight() * static_cast<double>(m.params));
            e.quantizedParams = m.params;
        }
        e.weightsBytes = ceilDiv(bits, 8);
        e.weightsByRole.push_back({TensorRole::Other, m.params, e.weightsBytes});
    } else {
        auto p = priceWeights(m, o, e.notes);
        if (!p)
            return p.error();
        e.weightsBytes = ceilDiv(p->bits, 8);
        e.quantizedParams = p->quantizedParams;
        for (const auto& [role, rb] : p->byRole)
            e.weightsByRole.push_back(rb);
    }
    e.bitsPerWeight =
        m.params ? static_cast<double>(e.weightsBytes) * 8.0 / static_cast<double>(m.params) : 0.0;

    const auto tokens = static_cast<std::uint64_t>(o.batch) * static_cast<std::uint64_t>(o.context);
    if (m.arch) {
        const ModelArchitecture& a = *m.arch;
        // KV cache, in half bits so q8_0's 8.5 stays an integer.
        const auto halfBits = static_cast<std::uint64_t>(kvDtypeBits(o.kvDtype) * 2);
        const auto perLayer = static_cast<std::uint64_t>(a.kvElementsPerToken());
        e.kvBytesPerToken =
            ceilDiv(static_cast<std::uint64_t>(a.numLayers) * perLayer * halfBits, 16);
        if (o.mode == MemoryMode::Inference) {
            std::uint64_t cached = 0; // token-layers cached per sequence
            for (std::int64_t l = 0; l < a.numLayers; ++l) {
                const std::int64_t w = a.windowOf(l);
                cached += static_cast<std::uint64_t>(w > 0 ? std::min(w, o.context) : o.context);
            }
            e.kvCacheBytes =
                ceilDiv(cached * static_cast<std::uint64_t>(o.batch) * perLayer * halfBits, 16);
        }
        std::uint64_t sum = 0, peak = 0;
        for (std::int64_t l = 0; l < a.numLayers; ++l) {
            const std::uint64_t n = layerActivationElements(a, l);
            sum += n;
            peak = std::max(peak, n);
        }
        const auto vocab = static_cast<std::uint64_t>(a.vocabSize);
        if (o.mode == MemoryMode::Inference) {
            e.activationBytes = tokens * peak * kActivationBytes +
                                static_cast<std::uint64_t>(o.batch) * vocab * kLogitBytes;
        } else {
            const std::uint64_t stored =
                o.gradientCheckpointing
                    ? static_cast<std::uint64_t>(a.numLayers * a.hiddenSize) + peak
                    : sum;
            e.activationBytes = tokens * (stored * kActivationBytes + vocab * kLogitBytes);
        }
    }

    // Training state.
    if (o.mode == MemoryMode::Train) {
        std::uint64_t fp32Params = 0;
        for (const auto& w : m.weights)
            if (w.dtype == DType::F32)
                fp32Params += w.numel();
        if (m.weights.empty() && m.countDtype == DType::F32)
            fp32Params = m.params;
        e.gradientBytes = e.weightsBytes;
        e.optimizerBytes = m.params * 8 + (m.params - fp32Params) * 4;
    } else if (o.mode == MemoryMode::Lora || o.mode == MemoryMode::Qlora) {
        if (o.loraRank <= 0)
            return makeError("the LoRA rank must be positive");
        const auto r = static_cast<std::uint64_t>(o.loraRank);
        for (const auto& w : m.weights)
            if (isLoraTarget(w, o.loraTargets))
                e.adapterParams += r * static_cast<std::uint64_t>(w.shape[0] + w.shape[1]);
        if (m.weights.empty())
            e.notes.push_back("only a parameter count: LoRA adapters need the model's matrices");
        e.adapterBytes = e.adapterParams * 4;
        e.gradientBytes = e.adapterParams * 4;
        e.optimizerBytes = e.adapterParams * 8;
    }
    e.totalBytes = e.weightsBytes + e.kvCacheBytes + e.activationBytes + e.gradientBytes +
                   e.optimizerBytes + e.adapterBytes;
    e.fits = fitOnCommonGpus(e.totalBytes);
    return e;
}

} // namespace qs
