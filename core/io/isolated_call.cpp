#include "io/isolated_call.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include <chrono>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define QS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QS_SANITIZED 1
#endif
#endif
#ifdef QS_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

namespace qs {
namespace {

bool writeAll(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t k = ::write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= static_cast<std::size_t>(k);
    }
    return true;
}

[[noreturn]] void childMain(int fd, const std::function<std::string()>& work) {
    // A crash here must end this child at once: the parent's crash handlers (QTest's stack
    // dumper, a sanitizer's report) are not for it. The parent reads the signal from waitpid.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL})
        std::signal(sig, SIG_DFL);
#ifdef QS_SANITIZED
    // A sanitizer's report in the child (e.g. a huge allocation) ends it here, before a fuzzer's
    // death callback would record the input as a crash of the parent.
    __sanitizer_set_death_callback([] { ::_exit(134); });
#endif
    std::string reply;
    char status = 'K';
    try {
        reply = work();
    } catch (const std::exception& e) {
        status = 'E';
        reply = e.what();
    } catch (...) {
        status = 'E';
        reply = "unknown failure";
    }
    const bool ok = writeAll(fd, &status, 1) && writeAll(fd, reply.data(), reply.size());
    ::close(fd);
    // _exit: no atexit handlers or static destructors run in this copy of the process.
    ::_exit(ok ? 0 : 3);
}

std::string describeStatus(int status) {
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        return std::string("crashed (SIG") + (name ? name : std::to_string(sig).c_str()) + ")";
    }
    if (WIFEXITED(status))
        return "failed (exit code " + std::to_string(WEXITSTATUS(status)) + ")";
    return "stopped unexpectedly";
}

} // namespace

Result<std::string> runIsolated(const std::function<std::string()>& work, const std::string& what,
                                std::size_t limitBytes, double timeoutSeconds) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return makeError(what + ": cannot create a pipe (" + std::strerror(errno) + ")");
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        return makeError(what + ": cannot start a helper process (" + std::strerror(err) + ")");
    }
    if (pid == 0) {
        ::close(fds[0]);
        childMain(fds[1], work);
    }
    ::close(fds[1]);
    std::string reply;
    bool tooLong = false, tooSlow = false;
    char buf[1 << 16];
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration<double>(timeoutSeconds > 0 ? timeoutSeconds : 1e9);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd pfd{fds[0], POLLIN, 0};
        const int ready =
            left.count() <= 0 ? 0 : ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0) {
            tooSlow = true;
            ::kill(pid, SIGKILL);
            break;
        }
        const ssize_t k = ::read(fds[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (reply.size() + static_cast<std::size_t>(k) > limitBytes + 1) {
            tooLong = true;
            ::kill(pid, SIGKILL);
            break;
        }
        reply.append(buf, static_cast<std::size_t>(k));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (tooLong)
        return makeError(what + ": the reply exceeded " + std::to_string(limitBytes) + " bytes");
    if (tooSlow) {
        char secs[32];
        std::snprintf(secs, sizeof secs, "%g", timeoutSeconds);
        return makeError(what + " did not finish within " + secs + " s: the file is corrupt");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty())
        return makeError(what + " " + describeStatus(status) + ": the file is corrupt");
    if (reply[0] != 'K')
        return makeError(reply.substr(1)); // the child's own message, complete
    return reply.substr(1);
}

Result<SharedBuffer> SharedBuffer::create(std::size_t bytes) {
    if (bytes == 0)
        return SharedBuffer(nullptr, 0);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return makeError("cannot map " + std::to_string(bytes) + " bytes of shared memory (" +
                         std::strerror(errno) + ")");
    return SharedBuffer(p, bytes);
}

SharedBuffer::SharedBuffer(SharedBuffer&& other) noexcept
    : m_data(other.m_data), m_size(other.m_size) {
    other.m_data = nullptr;
    other.m_size = 0;
}

SharedBuffer::~SharedBuffer() {
    if (m_data)
        ::munmap(m_data, m_size);
}

void ReplyWriter::u64(std::uint64_t v) {
    m_out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void ReplyWriter::str(const std::string& s) {
    u64(s.size());
    m_out += s;
}

std::uint64_t ReplyReader::u64() {
    std::uint64_t v = 0;
    if (m_in.size() - m_pos < sizeof v)
        throw std::runtime_error("truncated reply");
    std::memcpy(&v, m_in.data() + m_pos, sizeof v);
    m_pos += sizeof v;
    return v;
}

std::string ReplyReader::str() {
    const std::uint64_t n = u64();
    if (n > m_in.size() - m_pos)
        throw std::runtime_error("truncated reply");
    std::string s = m_in.substr(m_pos, n);
    m_pos += n;
    return s;
}

} // namespace qs
