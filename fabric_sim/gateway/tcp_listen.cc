#include "fabric_sim/gateway/tcp_listen.h"

#include "boost/asio/ip/address.hpp"
#include "fmt/format.h"

namespace splitpath::sim {

namespace asio = boost::asio;
using asio::ip::tcp;

absl::StatusOr<uint16_t> listen_on(tcp::acceptor& acceptor, const std::string& address,
                                   uint16_t port, std::string_view option) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec)
    return absl::InvalidArgumentError(
        fmt::format("{}: '{}' is not an IP address", option, address));
  const tcp::endpoint endpoint(ip, port);
  if (acceptor.open(endpoint.protocol(), ec); ec)
    return absl::UnavailableError(fmt::format("socket: {}", ec.message()));
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec)
    return absl::UnavailableError(
        fmt::format("cannot bind {}:{}: {}", address, port, ec.message()));
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    return absl::UnavailableError(fmt::format("listen: {}", ec.message()));
  return acceptor.local_endpoint().port();
}

}  // namespace splitpath::sim
