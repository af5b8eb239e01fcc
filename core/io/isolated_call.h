#pragma once
// Running untrusted-input work in a short-lived child process, so that a crash inside a library
// we cannot fix (libhdf5 dereferences NULL on some corrupt files) becomes a one-line error
// instead of taking the application down. POSIX only (fork + pipe + shared anonymous memory).
//
// The child is a fork of this process: it must only touch what the work needs (no locks another
// thread may hold at the fork, no threads of its own). What it returns travels back through a
// pipe as bytes; bulk data (tensor values) goes through a SharedBuffer mapped before the fork.

#include "util/result.h"

#include <cstddef>
#include <functional>
#include <string>

namespace qs {

// Runs `work` in a child process and returns the bytes it produced. An exception in the child
// becomes an error carrying its what() unchanged (write complete messages there); a signal
// (SIGSEGV, SIGABRT, ...) or another abnormal end gives "`what` crashed (SIGSEGV): the file is
// corrupt".
// `limitBytes` caps the reply (a corrupt file must not make the child flood the pipe);
// `timeoutSeconds` > 0 kills a child that has not finished by then (libhdf5 can spin for
// minutes on a crafted file): "`what` did not finish within N s: the file is corrupt".
Result<std::string> runIsolated(const std::function<std::string()>& work, const std::string& what,
                                std::size_t limitBytes = std::size_t{1} << 30,
                                double timeoutSeconds = 0);

// Memory a child writes and this process reads after it exits (MAP_SHARED | MAP_ANONYMOUS).
class SharedBuffer {
public:
    static Result<SharedBuffer> create(std::size_t bytes);
    SharedBuffer(SharedBuffer&& other) noexcept;
    SharedBuffer& operator=(SharedBuffer&&) = delete;
    SharedBuffer(const SharedBuffer&) = delete;
    ~SharedBuffer();
    void* data() const { return m_data; }
    std::size_t size() const { return m_size; }

private:
    SharedBuffer(void* data, std::size_t size) : m_data(data), m_size(size) {}
    void* m_data = nullptr;
    std::size_t m_size = 0;
};

// A minimal length-prefixed encoding for replies: append fields in order, read them back in the
// same order. Reading past the end or a length beyond the data throws std::runtime_error, which
// the caller turns into "malformed reply" (it cannot happen unless the child misbehaved).
class ReplyWriter {
public:
    void u64(std::uint64_t v);
    void str(const std::string& s);
    std::string take() { return std::move(m_out); }

private:
    std::string m_out;
};

class ReplyReader {
public:
    explicit ReplyReader(const std::string& in) : m_in(in) {}
    std::uint64_t u64();
    std::string str();
    bool atEnd() const { return m_pos == m_in.size(); }

private:
    const std::string& m_in;
    std::size_t m_pos = 0;
};

} // namespace qs
