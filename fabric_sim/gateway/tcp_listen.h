// Binds and opens a gateway's loopback (or any) TCP listener: the part the
// NBD and iSCSI servers share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "boost/asio/ip/tcp.hpp"

namespace splitpath::sim {

// Opens `acceptor` on `address`:`port` (0: an ephemeral port) and listens.
// Returns the port bound, or a message naming `option` (e.g. "--nbd") for a
// malformed address, and the address for a port in use.
absl::StatusOr<uint16_t> listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                   const std::string& address, uint16_t port,
                                   std::string_view option);

}  // namespace splitpath::sim
