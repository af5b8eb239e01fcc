// qs-make-checkpoint OUT.safetensors: the Llama-3.2-1B-layout bf16 checkpoint of
// tests/bench/sweep_bench.py (the same tensors, shapes and order; Gaussian weights with sd 0.02,
// norms 1), written without Python or numpy, for machines that have neither (the GPU machine of
// scripts/device-bundle). The random numbers are Quantscope's own (syntheticGaussian), not
// numpy's, so the figures are comparable but not the bits.
#include "analysis/bench.h"
#include "tensor/dtype.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Tensor {
    std::string name;
    std::vector<long long> shape;
    long long numel() const {
        long long n = 1;
        for (long long d : shape)
            n *= d;
        return n;
    }
};

std::vector<Tensor> llama1b() {
    const long long layers = 16, hidden = 2048, inter = 8192, vocab = 128256, kvHeads = 8,
                    heads = 32, headDim = hidden / heads;
    std::vector<Tensor> out{{"model.embed_tokens.weight", {vocab, hidden}}};
    for (long long i = 0; i < layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        out.push_back({p + "input_layernorm.weight", {hidden}});
        out.push_back({p + "self_attn.q_proj.weight", {hidden, hidden}});
        out.push_back({p + "self_attn.k_proj.weight", {kvHeads * headDim, hidden}});
        out.push_back({p + "self_attn.v_proj.weight", {kvHeads * headDim, hidden}});
        out.push_back({p + "self_attn.o_proj.weight", {hidden, hidden}});
        out.push_back({p + "post_attention_layernorm.weight", {hidden}});
        out.push_back({p + "mlp.gate_proj.weight", {inter, hidden}});
        out.push_back({p + "mlp.up_proj.weight", {inter, hidden}});
        out.push_back({p + "mlp.down_proj.weight", {hidden, inter}});
    }
    out.push_back({"model.norm.weight", {hidden}});
    return out;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: qs-make-checkpoint OUT.safetensors\n");
        return 2;
    }
    const auto tensors = llama1b();
    std::string header = "{";
    long long offset = 0;
    for (const Tensor& t : tensors) {
        const long long bytes = t.numel() * 2;
        header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name +
                  "\":{\"dtype\":\"BF16\",\"shape\":[";
        for (std::size_t i = 0; i < t.shape.size(); ++i)
            header += (i ? "," : "") + std::to_string(t.shape[i]);
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
                  std::to_string(offset + bytes) + "]}";
        offset += bytes;
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    const std::string tmp = std::string(argv[1]) + ".tmp";
    std::ofstream out(tmp, std::ios::binary);
    const unsigned long long len = header.size();
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    constexpr long long kChunk = 1 << 24;
    std::uint64_t seed = 1234;
    std::vector<std::uint16_t> bf16;
    for (const Tensor& t : tensors) {
        const long long n = t.numel();
        for (long long start = 0; start < n; start += kChunk) {
            const long long k = std::min(kChunk, n - start);
            const std::vector<float> x =
                t.shape.size() == 1 ? std::vector<float>(static_cast<std::size_t>(k), 1.0f)
                                    : qs::syntheticGaussian(static_cast<std::uint64_t>(k), 0.02f,
                                                            seed++);
            bf16.resize(x.size());
            for (std::size_t i = 0; i < x.size(); ++i)
                bf16[i] = qs::floatToBf16(x[i]);
            out.write(reinterpret_cast<const char*>(bf16.data()),
                      static_cast<std::streamsize>(bf16.size() * 2));
        }
    }
    out.close();
    if (!out || std::rename(tmp.c_str(), argv[1]) != 0) {
        std::fprintf(stderr, "qs-make-checkpoint: could not write %s\n", argv[1]);
        return 1;
    }
    std::printf("wrote %s (%.2f GiB, %zu tensors)\n", argv[1],
                static_cast<double>(offset + 8 + static_cast<long long>(len)) / (1 << 30),
                tensors.size());
    return 0;
}
