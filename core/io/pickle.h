#pragma once
// A restricted unpickler for what torch.save writes into data.pkl: containers, numbers,
// strings, and tensors rebuilt from persistent storage ids. It never executes anything: only
// a fixed list of opcodes is understood, and every GLOBAL must be one of the names PyTorch's
// own weights_only unpickler allows for state dicts (torch._utils._rebuild_tensor_v2 and
// friends, collections.OrderedDict, storage and dtype names). Anything else is an error that
// names the offending global or opcode.

#include "tensor/dtype.h"
#include "util/result.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace qs::pickle {

struct Storage {
    std::string key; // record name under data/
    DType dtype = DType::U8;
    std::uint64_t numel = 0; // in elements of dtype (bytes for UntypedStorage)
};

struct Tensor {
    std::shared_ptr<const Storage> storage;
    std::int64_t offset = 0; // in elements of dtype
    std::vector<std::int64_t> size, stride;
    DType dtype = DType::F32;
};

struct Object;
using Ref = std::shared_ptr<Object>;

enum class Kind {
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    Tuple,
    List,
    Dict,
    Global,
    Storage,
    Tensor,
    Mark
};

struct Object {
    Kind kind = Kind::None;
    std::int64_t i = 0; // Int, Bool
    double f = 0;
    std::string s;                            // Str, Bytes, Global ("module.name")
    std::vector<Ref> items;                   // Tuple, List
    std::vector<std::pair<Ref, Ref>> entries; // Dict (insertion order)
    std::shared_ptr<const Storage> storage;
    std::shared_ptr<const Tensor> tensor;
};

Result<Ref> unpickle(std::span<const std::byte> data);

// Every tensor reachable from `root`, named by the dotted path of dict keys and list indices.
std::vector<std::pair<std::string, std::shared_ptr<const Tensor>>> collectTensors(const Ref& root);

} // namespace qs::pickle
