#include "fabric_sim/gateway/iscsi_server.h"

#include <memory>
#include <utility>

#include "boost/asio/ip/address.hpp"
#include "fabric_sim/gateway/iscsi_connection.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace asio = boost::asio;
using asio::ip::tcp;

IscsiServer::IscsiServer(asio::io_context& io, InitiatorPool& pool, IscsiServerOptions options)
    : io_(io), pool_(pool), options_(std::move(options)), acceptor_(io) {
  for (const auto& t : pool_.plan().targets)
    targets_.push_back(iscsi::TargetInfo{iscsi::target_iqn(t.wwpn), t.name, t.wwpn});
}

IscsiServer::~IscsiServer() = default;

absl::Status IscsiServer::listen() {
  if (auto s = pool_.check(); !s.ok()) return s;
  if (targets_.empty())
    return absl::InvalidArgumentError("no virtual target presents a LUN: no iSCSI target to serve");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec)
    return absl::InvalidArgumentError(
        fmt::format("--iscsi: '{}' is not an IP address", options_.address));
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

void IscsiServer::start() {
  accept();
}

void IscsiServer::close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

uint16_t IscsiServer::new_tsih() {
  const uint16_t tsih = next_tsih_++;
  if (next_tsih_ == 0) next_tsih_ = 1;
  return tsih;
}

void IscsiServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) spdlog::warn("iscsi: accept: {}", ec.message());
      if (acceptor_.is_open() && ec != asio::error::operation_aborted) accept();
      return;
    }
    ++stats_.connections;
    std::make_shared<IscsiConnection>(std::move(socket), *this, next_connection_++)->start();
    accept();
  });
}

}  // namespace splitpath::sim
