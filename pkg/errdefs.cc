#include "pkg/errdefs.h"

#include <cerrno>
#include <cstring>

namespace mcd::errdefs {

std::string_view ClassText(Code code) {
  switch (code) {
    case Code::kNotFound:
      return "not found";
    case Code::kAlreadyExists:
      return "already exists";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kFailedPrecondition:
      return "failed precondition";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kUnimplemented:
      return "not implemented";
    case Code::kAborted:
      return "aborted";
    case Code::kCanceled:
      return "context canceled";
    case Code::kDeadlineExceeded:
      return "context deadline exceeded";
    case Code::kPermissionDenied:
      return "permission denied";
    case Code::kOutOfRange:
      return "out of range";
    case Code::kResourceExhausted:
      return "resource exhausted";
    case Code::kDataLoss:
      return "data loss";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kInternal:
      return "internal";
    case Code::kOk:
      return "ok";
    case Code::kUnknown:
      break;
  }
  return "unknown";
}

Error Make(Code code, std::string_view context) {
  std::string msg(context);
  if (!msg.empty()) msg += ": ";
  msg += ClassText(code);
  return Error(code, std::move(msg));
}

std::string ErrnoText(int err) {
  // glibc capitalises what Go's table (taken from the same Linux strings)
  // does not.
  std::string t = std::strerror(err);
  if (!t.empty() && t[0] >= 'A' && t[0] <= 'Z' && !(t.size() > 1 && t[1] >= 'A' && t[1] <= 'Z'))
    t[0] = static_cast<char>(t[0] - 'A' + 'a');
  return t;
}

Error FromErrno(int err, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += ErrnoText(err);
  switch (err) {
    case ENOENT:
      return Make(Code::kNotFound, msg);
    case EEXIST:
      return Make(Code::kAlreadyExists, msg);
    case EINVAL:
      return Make(Code::kInvalidArgument, msg);
    case EBUSY:
    case ENOTEMPTY:
      return Make(Code::kFailedPrecondition, msg);
    case ENOSYS:
    case EOPNOTSUPP:
      return Make(Code::kUnimplemented, msg);
    case EACCES:
    case EPERM:
      return Error(Code::kPermissionDenied, msg);
    default:
      return Error(Code::kUnknown, msg);
  }
}

Error FromGrpc(const Error& e) {
  Code code = e.code();
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kAlreadyExists:
    case Code::kNotFound:
    case Code::kUnavailable:
    case Code::kFailedPrecondition:
    case Code::kUnimplemented:
    case Code::kCanceled:
    case Code::kDeadlineExceeded:
      break;
    default:
      code = Code::kUnknown;
  }
  const std::string cls(ClassText(code));
  std::string msg = e.what();
  if (msg == cls) return Error(code, msg);
  const std::string suffix = ": " + cls;
  if (msg.ends_with(suffix)) msg.resize(msg.size() - suffix.size());
  return Error(code, msg + suffix);
}

Code CodeOf(const std::exception& e) {
  if (auto* err = dynamic_cast<const Error*>(&e)) return err->code();
  return Code::kUnknown;
}

}  // namespace mcd::errdefs
