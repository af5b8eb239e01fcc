#pragma once
// Fixture writers for ZIP-based formats: .npz archives and torch.save zip checkpoints (with a
// small pickle builder that emits the protocol-2 opcodes torch.save uses).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qs::test {

using Bytes = std::vector<std::uint8_t>;

// Writes a ZIP archive through libzip; members are deflated when `deflate` is true.
void writeZip(const std::string& path, const std::vector<std::pair<std::string, Bytes>>& members,
              bool deflate);

// The bytes of an .npy file (version 1.0).
Bytes npyBytes(const std::string& descr, const std::vector<std::int64_t>& shape, const Bytes& data);

// Emits pickle opcodes (protocol 2).
class PickleWriter {
public:
    PickleWriter();
    PickleWriter& op(std::uint8_t code);
    PickleWriter& global(const std::string& module, const std::string& name);
    PickleWriter& str(const std::string& s);
    PickleWriter& integer(std::int64_t v);
    PickleWriter& tupleOf(const std::vector<std::int64_t>& v); // pushes a tuple of ints
    PickleWriter& mark() { return op('('); }
    PickleWriter& stop() { return op('.'); }
    const Bytes& bytes() const { return m_b; }

private:
    Bytes m_b;
};

struct TorchTensorSpec {
    std::string name;
    std::string storageKey;
    std::string storageType; // "FloatStorage", "HalfStorage", ...
    std::int64_t storageNumel = 0;
    std::int64_t offset = 0;
    std::vector<std::int64_t> size, stride;
    bool parameter = false; // wrap in torch._utils._rebuild_parameter
};

// data.pkl for an OrderedDict state dict, optionally wrapped as {wrapper: state_dict}.
Bytes torchStateDictPickle(const std::vector<TorchTensorSpec>& tensors,
                           const std::string& wrapper = {});

// A torch.save zip: <archive>/data.pkl, <archive>/data/<key>, <archive>/byteorder, version.
void writeTorchZip(const std::string& path, const Bytes& dataPkl,
                   const std::vector<std::pair<std::string, Bytes>>& storages,
                   const std::string& archive = "archive",
                   const std::vector<std::pair<std::string, Bytes>>& extra = {});

} // namespace qs::test
