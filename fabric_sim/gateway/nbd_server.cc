#include "fabric_sim/gateway/nbd_server.h"

#include <memory>
#include <utility>

#include "boost/asio/ip/address.hpp"
#include "fabric_sim/gateway/nbd_connection.h"
#include "fabric_sim/run/fabric.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace asio = boost::asio;
using asio::ip::tcp;

NbdServer::NbdServer(asio::io_context& io, Fabric& fabric, GatewayPlan plan,
                     NbdServerOptions options)
    : io_(io),
      fabric_(fabric),
      plan_(std::move(plan)),
      options_(std::move(options)),
      acceptor_(io) {
  for (const auto& name : plan_.initiators)
    initiators_.push_back(fabric_.host(name));
  busy_.assign(initiators_.size(), false);
}

NbdServer::~NbdServer() = default;

absl::Status NbdServer::listen() {
  for (Host* h : initiators_)
    if (h == nullptr) return absl::InternalError("a gateway initiator is missing from the fabric");
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

bool NbdServer::ready() const {
  for (size_t i = 0; i < initiators_.size(); ++i) {
    for (const auto& e : plan_.exports)
      if (!resolve(i, e.name)) return false;
  }
  return true;
}

std::optional<ResolvedExport> NbdServer::resolve(size_t initiator, const std::string& name) const {
  for (const auto& e : plan_.exports) {
    if (e.name != name) continue;
    for (const auto& lun : initiators_[initiator]->luns()) {
      if (lun.target_wwpn != e.target_wwpn || lun.lun != e.lun) continue;
      return ResolvedExport{&e, lun, lun.blocks * lun.block_size};
    }
  }
  return std::nullopt;
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
    size_t free = busy_.size();
    for (size_t i = 0; i < busy_.size(); ++i) {
      if (!busy_[i]) {
        free = i;
        break;
      }
    }
    if (free == busy_.size()) {
      ++stats_.refused;
      spdlog::warn("nbd: connection {} refused: all {} initiators are in use (--initiators)", id,
                   busy_.size());
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      ++stats_.connections;
      busy_[free] = true;
      std::make_shared<NbdConnection>(std::move(socket), *this, free, id)->start();
    }
    accept();
  });
}

}  // namespace splitpath::sim
