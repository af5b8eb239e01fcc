#pragma once
// Errors as values at the core boundary: a Result<T> holds either a value or an Error whose
// message a person can act on ("what and where"). No exception crosses the core API.

#include <string>
#include <utility>
#include <variant>

namespace qs {

// What kind of failure: callers treat "this scheme does not apply to this tensor" (a ggml block
// that does not divide the rows) and a user's cancel differently from real errors.
enum class ErrorKind { Failure, NotApplicable, Cancelled };

struct Error {
    std::string message;
    ErrorKind kind = ErrorKind::Failure;
};

template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Error error) : m_v(std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(m_v); }
    const std::string& message() const { return error().message; }

private:
    std::variant<T, Error> m_v;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;

inline Error makeError(std::string message, ErrorKind kind = ErrorKind::Failure) {
    return Error{std::move(message), kind};
}

} // namespace qs
