#include "xflow/error.hpp"

#include <cstring>

namespace xf {

std::string Loc::str() const {
  if (file == nullptr || *file == '\0') return "";
  const char* base = std::strrchr(file, '/');
  return std::string(base ? base + 1 : file) + ":" + std::to_string(line);
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
  }
  throw Internal(what);
}

void raise(ErrorCode code, const char* op, const std::string& message, Loc loc) {
  std::string where = loc.str();
  throw_error(code, "[" + std::string(op) + "] " + message + (where.empty() ? "" : " (" + where + ")"));
}

}  // namespace xf
