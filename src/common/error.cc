#include "common/error.h"

#include <cerrno>
#include <cstring>

namespace silo {

Error Error::wrap(std::string_view context) const {
  Error e = *this;
  e.message = std::string(context) + ": " + message;
  return e;
}

std::unexpected<Error> fail(Code code, std::string message) {
  return std::unexpected(Error{0, code, std::move(message)});
}

std::unexpected<Error> fail_errno(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += errno_name(err);
  msg += " (";
  msg += std::strerror(err);
  msg += ")";
  return std::unexpected(Error{err, code_for_errno(err), std::move(msg)});
}

std::unexpected<Error> wrap(const Error& e, std::string_view context) {
  return std::unexpected(e.wrap(context));
}

std::string_view errno_name(int err) {
  // strerrorname_np exists in glibc >= 2.32 (Debian 12 has 2.36).
  const char* name = strerrorname_np(err);
  return name ? std::string_view(name) : std::string_view("EUNKNOWN");
}

Code code_for_errno(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return Code::Permission;
    case ENOENT:
    case ESRCH:
    case ENODEV:
    case ENXIO:
      return Code::NotFound;
    case EEXIST:
    case EBUSY:
    case EADDRINUSE:
      return Code::Conflict;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR:
    case ERANGE:
      return Code::Invalid;
    case EAGAIN:
    case ENOSPC:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ECONNREFUSED:
    case ENOSYS:
      return Code::Unavailable;
    default:
      return Code::Internal;
  }
}

int exit_code_for(Code code) {
  switch (code) {
    case Code::Invalid:
      return 2;
    default:
      return 1;
  }
}

std::string_view code_name(Code code) {
  switch (code) {
    case Code::Invalid:
      return "invalid";
    case Code::NotFound:
      return "not found";
    case Code::Conflict:
      return "conflict";
    case Code::Permission:
      return "permission";
    case Code::Unavailable:
      return "unavailable";
    case Code::Internal:
      return "internal";
  }
  return "internal";
}

}  // namespace silo
