#include "fabric_sim/gateway/nbd_server.h"

#include <memory>
#include <utility>

#include "fabric_sim/gateway/nbd_connection.h"
#include "fabric_sim/gateway/tcp_listen.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace asio = boost::asio;
using asio::ip::tcp;

NbdServer::NbdServer(asio::io_context& io, InitiatorPool& pool, NbdServerOptions options)
    : pool_(pool), options_(std::move(options)), acceptor_(io) {}

NbdServer::~NbdServer() = default;

absl::Status NbdServer::listen() {
  if (auto s = pool_.check(); !s.ok()) return s;
  auto port = listen_on(acceptor_, options_.address, options_.port, "--nbd");
  if (!port.ok()) return port.status();
  port_ = *port;
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
