#pragma once
// One error model for every layer: an Error carries a class that maps 1:1 to
// containerd's errdefs and to gRPC status codes. Messages follow containerd's
// wording ("container \"x\": not found") because clients match on them.
#include <stdexcept>
#include <string>
#include <string_view>

namespace mcd::errdefs {

// Values are the gRPC status codes, so conversion is a cast.
enum class Code : int {
  kOk = 0,
  kCanceled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// containerd's suffix for a class ("not found", "already exists", ...).
std::string_view ClassText(Code code);

class Error : public std::runtime_error {
 public:
  // `message` is the complete text sent to clients.
  Error(Code code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// Builders that append containerd's class suffix: NotFound("container \"x\"")
// -> "container \"x\": not found", as containerd's errors.Wrapf produces.
Error Make(Code code, std::string_view context);
inline Error NotFound(std::string_view ctx) {
  return Make(Code::kNotFound, ctx);
}
inline Error AlreadyExists(std::string_view ctx) {
  return Make(Code::kAlreadyExists, ctx);
}
inline Error InvalidArgument(std::string_view ctx) {
  return Make(Code::kInvalidArgument, ctx);
}
inline Error FailedPrecondition(std::string_view ctx) {
  return Make(Code::kFailedPrecondition, ctx);
}
inline Error Unavailable(std::string_view ctx) {
  return Make(Code::kUnavailable, ctx);
}
inline Error NotImplemented(std::string_view ctx) {
  return Make(Code::kUnimplemented, ctx);
}
inline Error Aborted(std::string_view ctx) {
  return Make(Code::kAborted, ctx);
}
inline Error Canceled(std::string_view ctx) {
  return Make(Code::kCanceled, ctx);
}
inline Error DeadlineExceeded(std::string_view ctx) {
  return Make(Code::kDeadlineExceeded, ctx);
}
inline Error Internal(std::string_view ctx) {
  return Error(Code::kInternal, std::string(ctx));
}
inline Error Unknown(std::string_view ctx) {
  return Error(Code::kUnknown, std::string(ctx));
}

// An errno's text as Go spells it ("no such file or directory"): what
// containerd's messages carry.
std::string ErrnoText(int err);

// An errno turned into an Error of the matching class (ENOENT -> not found...).
Error FromErrno(int err, std::string_view context);

// An error received from a gRPC/ttrpc peer (a shim) as containerd's
// errdefs.FromGRPC turns it into its own: codes without an errdefs class
// become Unknown and the message ends in its class's text exactly once
// ("...: unknown"), which containerd then sends on to its clients.
Error FromGrpc(const Error& e);

// Code of any exception: Error's own, Unknown otherwise.
Code CodeOf(const std::exception& e);

}  // namespace mcd::errdefs
