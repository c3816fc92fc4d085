#include "xflow/error.hpp"

#include <cstring>

namespace xf {

std::string Loc::str() const {
  if (file == nullptr || *file == '\0') return "";
  const char* base = std::strrchr(file, '/');
  return std::string(base ? base + 1 : file) + ":" + std::to_string(line);
}

const char* error_class_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "InvalidArgument";
    case ErrorCode::shape: return "ShapeError";
    case ErrorCode::dtype: return "DTypeError";
    case ErrorCode::out_of_range: return "OutOfRange";
    case ErrorCode::not_found: return "NotFound";
    case ErrorCode::data_loss: return "DataLoss";
    case ErrorCode::failed_precondition: return "FailedPrecondition";
    case ErrorCode::unimplemented: return "Unimplemented";
    case ErrorCode::internal: return "Internal";
    case ErrorCode::cancelled: return "Cancelled";
    case ErrorCode::deadline_exceeded: return "DeadlineExceeded";
    case ErrorCode::unavailable: return "Unavailable";
    case ErrorCode::resource_exhausted: return "ResourceExhausted";
    case ErrorCode::aborted: return "Aborted";
    case ErrorCode::already_exists: return "AlreadyExists";
    case ErrorCode::axis: return "AxisError";
  }
  return "Error";
}

void throw_error(ErrorCode code, const std::string& what) {
  switch (code) {
    case ErrorCode::invalid_argument: throw InvalidArgument(what);
    case ErrorCode::shape: throw ShapeError(what);
    case ErrorCode::dtype: throw DTypeError(what);
    case ErrorCode::out_of_range: throw OutOfRange(what);
    case ErrorCode::not_found: throw NotFound(what);
    case ErrorCode::data_loss: throw DataLoss(what);
    case ErrorCode::failed_precondition: throw FailedPrecondition(what);
    case ErrorCode::unimplemented: throw Unimplemented(what);
    case ErrorCode::internal: throw Internal(what);
    case ErrorCode::cancelled: throw Cancelled(what);
    case ErrorCode::deadline_exceeded: throw DeadlineExceeded(what);
    case ErrorCode::unavailable: throw Unavailable(what);
    case ErrorCode::resource_exhausted: throw ResourceExhausted(what);
    case ErrorCode::aborted: throw Aborted(what);
    case ErrorCode::already_exists: throw AlreadyExists(what);
    case ErrorCode::axis: throw AxisError(what);
  }
  throw Internal(what);
}

void raise(ErrorCode code, const char* op, const std::string& message, Loc loc) {
  std::string where = loc.str();
  throw_error(code, "[" + std::string(op) + "] " + message + (where.empty() ? "" : " (" + where + ")"));
}

}  // namespace xf
