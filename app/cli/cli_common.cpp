#include "cli/cli_common.h"

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <regex>

namespace qs::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void onInterrupt(int sig) {
    if (g_interrupted) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
    g_interrupted = 1;
}

} // namespace

void installInterruptHandler() {
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
}

bool interrupted() {
    return g_interrupted != 0;
}

void throwIfInterrupted() {
    if (interrupted())
        throw CliError{kInterrupted, "interrupted"};
}

ProgressFn interruptProgress() {
    return [](double) { return !interrupted(); };
}

Checkpoint openCheckpoint(const std::string& path) {
    auto c = Checkpoint::open(path, interruptProgress());
    throwIfInterrupted();
    if (!c)
        throw CliError{kBadFile, c.message()};
    return std::move(c).value();
}

Scheme parseScheme(const std::string& spec) {
    auto s = Scheme::parse(spec);
    if (!s)
        throw CliError{kBadScheme, s.message()};
    return s.value();
}

BackendStatus useBackend(const std::string& name) {
    const auto b = parseBackend(name);
    if (!b)
        throw CliError{kUsage, "--backend must be auto, cpu or cuda, not '" + name + "'"};
    BackendStatus st = selectBackend(*b);
    if (*b == Backend::Cuda && !st.note.empty())
        std::cerr << "quantscope-cli: note: " << st.note << "\n";
    return st;
}

std::vector<const TensorInfo*> selectTensors(const Checkpoint& ckpt, const std::string& regex) {
    std::vector<const TensorInfo*> out;
    std::optional<std::regex> re;
    if (!regex.empty()) {
        try {
            re.emplace(regex, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            throw CliError{kUsage, "invalid --tensor regex '" + regex + "': " + e.what()};
        }
    }
    for (const auto& t : ckpt.tensors())
        if (!re || std::regex_search(t.name, *re))
            out.push_back(&t);
    if (out.empty())
        throw CliError{kNotFound, "no tensor in " + ckpt.path() + " matches '" + regex + "'"};
    return out;
}

std::vector<float> readTensor(const Checkpoint& ckpt, const TensorInfo& t) {
    throwIfInterrupted();
    auto v = ckpt.readFloat(t);
    if (!v)
        throw CliError{kBadFile, v.message()};
    return std::move(v).value();
}

void withThreads(int threads, const std::function<void()>& body) {
    if (threads <= 0) {
        body();
        return;
    }
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
    tbb::task_arena arena(threads);
    arena.execute(body);
}

nlohmann::json number(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json shapeJson(const TensorInfo& t) {
    return nlohmann::json(t.shape);
}

void printJson(const nlohmann::json& j) {
    std::cout << j.dump(2) << "\n";
}

void TextTable::print() const {
    std::vector<size_t> width(m_header.size(), 0);
    auto measure = [&](const std::vector<std::string>& r) {
        for (size_t i = 0; i < r.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    };
    measure(m_header);
    for (const auto& r : m_rows)
        measure(r);
    auto line = [&](const std::vector<std::string>& r) {
        std::string s;
        for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
            const bool left = i == 0;
            const std::string pad(width[i] - r[i].size(), ' ');
            s += (i ? "  " : "") + (left ? r[i] + pad : pad + r[i]);
        }
        while (!s.empty() && s.back() == ' ')
            s.pop_back();
        std::cout << s << "\n";
    };
    line(m_header);
    size_t total = 0;
    for (auto w : width)
        total += w;
    std::cout << std::string(total + 2 * (width.size() - 1), '-') << "\n";
    for (const auto& r : m_rows)
        line(r);
}

std::string fmt(double v, int precision) {
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    if (std::isnan(v))
        return "nan";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return buf;
}

std::string humanBytes(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", v, units[u]);
    return buf;
}

} // namespace qs::cli
