#include "io/sharded.h"

#include "io/safetensors.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace qs {
namespace {

constexpr std::uint64_t kMaxJsonBytes = 64ull << 20;

Result<nlohmann::json> parseJsonFile(const MappedFile& f) {
    if (f.size() > kMaxJsonBytes)
        return makeError(f.path() + ": JSON file larger than 64 MB");
    const auto b = f.bytes();
    try {
        return nlohmann::json::parse(reinterpret_cast<const char*>(b.data()),
                                     reinterpret_cast<const char*>(b.data()) + b.size());
    } catch (const nlohmann::json::exception& e) {
        return makeError(printableLine(f.path() + ": malformed JSON: " + e.what()));
    }
}

void readSidecars(Checkpoint& ckpt, const fs::path& dir) {
    for (const char* name : {"config.json", "generation_config.json"}) {
        const fs::path p = dir / name;
        std::error_code ec;
        if (!fs::is_regular_file(p, ec))
            continue;
        auto f = MappedFile::open(p.string());
        if (!f || (*f)->size() > kMaxJsonBytes)
            continue;
        const auto b = (*f)->bytes();
        ckpt.setSidecar(name, std::string(reinterpret_cast<const char*>(b.data()), b.size()));
    }
}

Result<Checkpoint> openShard(const fs::path& p) {
    auto f = MappedFile::open(p.string());
    if (!f)
        return f.error();
    return readSafetensors(*f);
}

} // namespace

bool looksLikeSafetensorsIndex(const MappedFile& file) {
    const auto b = file.bytes();
    size_t i = 0;
    while (i < b.size() && std::isspace(static_cast<unsigned char>(b[i])))
        ++i;
    if (i >= b.size() || b[i] != std::byte{'{'} || file.size() > kMaxJsonBytes)
        return false;
    const std::string_view text(reinterpret_cast<const char*>(b.data()), b.size());
    return text.find("\"weight_map\"") != std::string_view::npos;
}

Result<Checkpoint> readSafetensorsIndex(const std::string& indexPath, const ProgressFn& progress) {
    auto f = MappedFile::open(indexPath);
    if (!f)
        return f.error();
    auto json = parseJsonFile(**f);
    if (!json)
        return json.error();
    auto fail = [&](const std::string& what) {
        return makeError(printableLine(indexPath + ": " + what));
    };
    if (!json->is_object() || !json->contains("weight_map") || !(*json)["weight_map"].is_object())
        return fail("not a safetensors index (no weight_map object)");
    const fs::path dir = fs::path(indexPath).parent_path();
    std::map<std::string, std::vector<std::string>> byShard;
    for (auto it = (*json)["weight_map"].begin(); it != (*json)["weight_map"].end(); ++it) {
        if (!it.value().is_string())
            return fail("weight_map entry for '" + it.key() + "' is not a file name");
        const std::string shard = it.value().get<std::string>();
        if (shard.empty() || fs::path(shard).has_parent_path() || shard == "." || shard == "..")
            return fail("weight_map names '" + shard + "', which is not a file beside the index");
        byShard[shard].push_back(it.key());
    }
    if (byShard.empty())
        return fail("weight_map is empty");
    Checkpoint ckpt(indexPath, "safetensors (sharded)");
    std::size_t opened = 0;
    for (const auto& [shard, names] : byShard) {
        if (!reportProgress(progress,
                            static_cast<double>(opened++) / static_cast<double>(byShard.size())))
            return cancelledError();
        auto part = openShard(dir / shard);
        if (!part)
            return part.error();
        for (const auto& n : names)
            if (!part->find(n))
                return fail("weight_map puts '" + n + "' in " + shard + ", which does not hold it");
        if (auto st = ckpt.absorb(std::move(part).value()); !st)
            return st.error();
    }
    ckpt.setMetadata("shards", std::to_string(byShard.size()));
    if (json->contains("metadata") && (*json)["metadata"].is_object())
        for (auto it = (*json)["metadata"].begin(); it != (*json)["metadata"].end(); ++it)
            ckpt.setMetadata("index." + it.key(), it.value().is_string()
                                                      ? it.value().get<std::string>()
                                                      : it.value().dump());
    readSidecars(ckpt, dir);
    return ckpt;
}

Result<Checkpoint> openModelDirectory(const std::string& dirPath, const ProgressFn& progress) {
    const fs::path dir(dirPath);
    std::vector<fs::path> indexes, shards;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_regular_file(ec))
            continue;
        const std::string name = e.path().filename().string();
        if (name.ends_with(".safetensors.index.json"))
            indexes.push_back(e.path());
        else if (name.ends_with(".safetensors"))
            shards.push_back(e.path());
    }
    if (ec)
        return makeError("cannot list " + dirPath + ": " + ec.message());
    std::sort(indexes.begin(), indexes.end());
    std::sort(shards.begin(), shards.end());
    if (!indexes.empty()) {
        const auto preferred = std::find_if(indexes.begin(), indexes.end(), [](const fs::path& p) {
            return p.filename() == "model.safetensors.index.json";
        });
        if (preferred == indexes.end() && indexes.size() > 1)
            return makeError(dirPath + " holds several safetensors indexes; open one of them");
        auto c = readSafetensorsIndex(
            (preferred != indexes.end() ? *preferred : indexes.front()).string(), progress);
        if (!c)
            return c.error();
        return c;
    }
    if (shards.empty())
        return makeError(dirPath +
                         ": a directory needs a *.safetensors.index.json or *.safetensors files "
                         "(open a single file of another format directly)");
    Checkpoint ckpt(dirPath, shards.size() > 1 ? "safetensors (sharded)" : "safetensors");
    for (std::size_t i = 0; i < shards.size(); ++i) {
        if (!reportProgress(progress, static_cast<double>(i) / static_cast<double>(shards.size())))
            return cancelledError();
        auto part = openShard(shards[i]);
        if (!part)
            return part.error();
        if (auto st = ckpt.absorb(std::move(part).value()); !st)
            return st.error();
    }
    if (shards.size() > 1)
        ckpt.setMetadata("shards", std::to_string(shards.size()));
    readSidecars(ckpt, dir);
    return ckpt;
}

} // namespace qs
