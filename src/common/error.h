#pragma once
// Errors are values: every fallible call returns Result<T>, and each layer puts its
// context in front of the message ("start web: mount /proc on /x: EPERM").

#include <expected>
#include <string>
#include <string_view>

namespace silo {

// What kind of failure this is; maps to an HTTP status and a CLI exit code.
enum class Code { Invalid, NotFound, Conflict, Permission, Unavailable, Internal };

struct Error {
  int sys_errno = 0;  // errno of the failing system call, 0 when none
  Code code = Code::Internal;
  std::string message;  // already includes the errno text when sys_errno != 0

  // Returns a copy with "context: " in front of the message.
  [[nodiscard]] Error wrap(std::string_view context) const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

// An error with no errno.
[[nodiscard]] std::unexpected<Error> fail(Code code, std::string message);
// An error from a failed system call: "what: ENAME (strerror)". Code derived from errno.
[[nodiscard]] std::unexpected<Error> fail_errno(int err, std::string_view what);
// Adds context in front of an error being passed up.
[[nodiscard]] std::unexpected<Error> wrap(const Error& e, std::string_view context);

// The symbolic name of an errno value ("EPERM"), or "E<n>" when unknown.
std::string_view errno_name(int err);
// The Code a given errno maps to (EPERM -> Permission, ENOENT -> NotFound, ...).
Code code_for_errno(int err);
// A process exit code for a Code, as the CLIs use (1 for most, 125-style codes are the caller's).
int exit_code_for(Code code);
std::string_view code_name(Code code);

}  // namespace silo

// Propagates an error with context; for use inside functions returning Result/Status.
#define SILO_TRY_CTX(expr, ctx)                                                                   \
  do {                                                                                            \
    if (auto silo_try_r_ = (expr); !silo_try_r_) return ::silo::wrap(silo_try_r_.error(), (ctx)); \
  } while (0)
#define SILO_TRY(expr)                                        \
  do {                                                        \
    if (auto silo_try_r_ = (expr); !silo_try_r_)              \
      return std::unexpected(std::move(silo_try_r_.error())); \
  } while (0)
