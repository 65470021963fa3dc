// Hashing used by the domain (request fingerprints) and by auth (token
// digests). Deterministic, no I/O.
#pragma once

#include <string>
#include <string_view>

namespace orch {

// Lowercase hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

}  // namespace orch
