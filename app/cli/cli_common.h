#pragma once
// Shared plumbing of quantscope-cli's subcommands: exit codes, the one-line error, opening a
// checkpoint, selecting tensors, JSON numbers and readable tables.

#include "analysis/compute_backend.h"
#include "io/checkpoint.h"
#include "quant/scheme.h"
#include "util/progress.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace qs::cli {

// Exit codes (all below 128, as the CLI contract requires).
enum Exit : int {
    kOk = 0,
    kFailure = 1,      // anything else
    kUsage = 2,        // bad arguments
    kBadFile = 3,      // unreadable or malformed input
    kBadScheme = 4,    // unknown or invalid scheme spec
    kNotFound = 5,     // tensor not found
    kOutputError = 6,  // cannot write the output
    kInterrupted = 130 // Ctrl-C (SIGINT) or SIGTERM: stopped cleanly, as shells report it
};

// Ctrl-C handling: the first SIGINT/SIGTERM sets a flag that long work polls (through
// interruptProgress() and throwIfInterrupted()) so the command stops cleanly, leaving no partial
// output; a second one ends the process at once.
void installInterruptHandler();
bool interrupted();
void throwIfInterrupted();      // throws CliError{kInterrupted, "interrupted"} once interrupted
ProgressFn interruptProgress(); // a progress callback that cancels once interrupted

// Thrown inside a subcommand, caught once in main: the message becomes the single stderr line.
struct CliError {
    int code;
    std::string message;
};

Checkpoint openCheckpoint(const std::string& path); // interruptible
Scheme parseScheme(const std::string& spec);
// Selects the compute backend ("auto", "cpu" or "cuda"); where "cuda" was asked for and the
// CPU is used instead, one note on stderr says why.
BackendStatus useBackend(const std::string& name);
// Tensors whose name matches the ECMAScript regex (search, not full match); all if empty.
std::vector<const TensorInfo*> selectTensors(const Checkpoint& ckpt, const std::string& regex);
std::vector<float> readTensor(const Checkpoint& ckpt, const TensorInfo& t);
// Runs `body` with `threads` CPU worker threads (more than the cores is allowed: oversubscribed),
// or with the default of all cores when `threads` is 0.
void withThreads(int threads, const std::function<void()>& body);

// JSON has no Inf/NaN: non-finite numbers are written as null.
nlohmann::json number(double v);
nlohmann::json shapeJson(const TensorInfo& t);

void printJson(const nlohmann::json& j);

// A plain text table with right-aligned numeric columns.
class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) : m_header(std::move(header)) {}
    void addRow(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
    void print() const;

private:
    std::vector<std::string> m_header;
    std::vector<std::vector<std::string>> m_rows;
};

std::string fmt(double v, int precision = 6); // %.{p}g, "inf" for infinity
std::string humanBytes(std::uint64_t bytes);

} // namespace qs::cli
