// The exception hierarchy, named after TensorFlow's status codes, and caller locations.
#pragma once
#include <stdexcept>
#include <string>

namespace xf {

// A source location captured at the caller: public functions take `Loc loc = Loc::current()`.
// Loc is not an aggregate, so a braced list meant for another parameter (`transpose(x, {0, 2})`)
// can never silently become a location.
struct Loc {
  const char* file = "";
  int line = 0;
  constexpr Loc() = default;
  static constexpr Loc current(const char* f = __builtin_FILE(), int l = __builtin_LINE()) {
    return Loc(Tag{}, f, l);
  }
  static constexpr Loc at(const char* f, int l) { return Loc(Tag{}, f, l); }
  // "train.cpp:42" (the file's base name), or "" when unknown.
  std::string str() const;

 private:
  struct Tag {};
  constexpr Loc(Tag, const char* f, int l) : file(f), line(l) {}
};

enum class ErrorCode { invalid_argument, shape, dtype, out_of_range, not_found, data_loss,
                       failed_precondition, unimplemented, internal, cancelled, deadline_exceeded,
                       unavailable, resource_exhausted, aborted, already_exists, axis };

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

class InvalidArgument : public Error {
 public:
  explicit InvalidArgument(const std::string& w, ErrorCode c = ErrorCode::invalid_argument) : Error(c, w) {}
};
class ShapeError : public InvalidArgument {
 public:
  explicit ShapeError(const std::string& w) : InvalidArgument(w, ErrorCode::shape) {}
};
class DTypeError : public InvalidArgument {
 public:
  explicit DTypeError(const std::string& w) : InvalidArgument(w, ErrorCode::dtype) {}
};
// An axis outside [-rank, rank): an InvalidArgument, as TensorFlow raises it (NumPy's AxisError).
class AxisError : public InvalidArgument {
 public:
  explicit AxisError(const std::string& w) : InvalidArgument(w, ErrorCode::axis) {}
};
class OutOfRange : public Error {
 public:
  explicit OutOfRange(const std::string& w) : Error(ErrorCode::out_of_range, w) {}
};
class NotFound : public Error {
 public:
  explicit NotFound(const std::string& w) : Error(ErrorCode::not_found, w) {}
};
class DataLoss : public Error {
 public:
  explicit DataLoss(const std::string& w) : Error(ErrorCode::data_loss, w) {}
};
class FailedPrecondition : public Error {
 public:
  explicit FailedPrecondition(const std::string& w) : Error(ErrorCode::failed_precondition, w) {}
};
class Unimplemented : public Error {
 public:
  explicit Unimplemented(const std::string& w) : Error(ErrorCode::unimplemented, w) {}
};
class Internal : public Error {
 public:
  explicit Internal(const std::string& w) : Error(ErrorCode::internal, w) {}
};
// An operation stopped before it completed (an enqueue pending when its queue closed with
// cancel_pending_enqueues, a request abandoned by its caller).
class Cancelled : public Error {
 public:
  explicit Cancelled(const std::string& w) : Error(ErrorCode::cancelled, w) {}
};
// A blocking operation's timeout passed (a queue's dequeue or enqueue with a timeout).
class DeadlineExceeded : public Error {
 public:
  explicit DeadlineExceeded(const std::string& w) : Error(ErrorCode::deadline_exceeded, w) {}
};
// A service cannot take the request now (a server shutting down, a servable not loaded yet).
class Unavailable : public Error {
 public:
  explicit Unavailable(const std::string& w) : Error(ErrorCode::unavailable, w) {}
};
// A bound was reached (a request larger than allowed, a full buffer).
class ResourceExhausted : public Error {
 public:
  explicit ResourceExhausted(const std::string& w) : Error(ErrorCode::resource_exhausted, w) {}
};
// An operation gave up because of a concurrent one (a coordinator's stop).
class Aborted : public Error {
 public:
  explicit Aborted(const std::string& w) : Error(ErrorCode::aborted, w) {}
};
class AlreadyExists : public Error {
 public:
  explicit AlreadyExists(const std::string& w) : Error(ErrorCode::already_exists, w) {}
};

// The exception class of `code`: "InvalidArgument", "ShapeError", ..., "AlreadyExists".
const char* error_class_name(ErrorCode code);

// Throws the exception class that belongs to `code` with message `what`.
[[noreturn]] void throw_error(ErrorCode code, const std::string& what);

// Throws `[op] message (file:line)` as the exception class of `code`.
[[noreturn]] void raise(ErrorCode code, const char* op, const std::string& message, Loc loc);

}  // namespace xf
