// The one place where domain errors become HTTP responses: status codes per
// error code, and the uniform JSON error body
//   {"error": "<message>", "code": "<CODE>", "request_id": "<id>"}
// (plus "details": [...] when the error lists every problem found).
#pragma once

#include <string>

#include "events/error.hpp"

namespace orch::http {

int status_of(Code code);
std::string error_body(const Error& error, const std::string& request_id);

}  // namespace orch::http
