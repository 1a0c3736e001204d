#include "fabric_sim/gateway/nbd_server.h"

#include <memory>
#include <utility>

#include "boost/asio/ip/address.hpp"
#include "fabric_sim/gateway/nbd_connection.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace asio = boost::asio;
using asio::ip::tcp;

NbdServer::NbdServer(asio::io_context& io, InitiatorPool& pool, NbdServerOptions options)
    : io_(io), pool_(pool), options_(std::move(options)), acceptor_(io) {}

NbdServer::~NbdServer() = default;

absl::Status NbdServer::listen() {
  if (auto s = pool_.check(); !s.ok()) return s;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec)
    return absl::InvalidArgumentError(
        fmt::format("--nbd: '{}' is not an IP address", options_.address));
  const tcp::endpoint endpoint(address, options_.port);
  if (acceptor_.open(endpoint.protocol(), ec); ec)
    return absl::UnavailableError(fmt::format("socket: {}", ec.message()));
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (acceptor_.bind(endpoint, ec); ec)
    return absl::UnavailableError(
        fmt::format("cannot bind {}:{}: {}", options_.address, options_.port, ec.message()));
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec)
    return absl::UnavailableError(fmt::format("listen: {}", ec.message()));
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void NbdServer::start() {
  accept();
}

void NbdServer::close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void NbdServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) spdlog::warn("nbd: accept: {}", ec.message());
      if (acceptor_.is_open() && ec != asio::error::operation_aborted) accept();
      return;
    }
    const uint64_t id = next_connection_++;
    const auto free = pool_.claim();
    if (!free) {
      ++stats_.refused;
      spdlog::warn("nbd: connection {} refused: all {} initiators are in use (--initiators)", id,
                   pool_.size());
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      ++stats_.connections;
      std::make_shared<NbdConnection>(std::move(socket), *this, *free, id)->start();
    }
    accept();
  });
}

}  // namespace splitpath::sim
