#include "fabric_sim/gateway/iscsi_server.h"

#include <memory>
#include <utility>

#include "fabric_sim/gateway/iscsi_connection.h"
#include "fabric_sim/gateway/tcp_listen.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace asio = boost::asio;
using asio::ip::tcp;

IscsiServer::IscsiServer(asio::io_context& io, InitiatorPool& pool, IscsiServerOptions options)
    : pool_(pool), options_(std::move(options)), acceptor_(io) {
  for (const auto& t : pool_.plan().targets)
    targets_.push_back(iscsi::TargetInfo{iscsi::target_iqn(t.wwpn), t.name, t.wwpn});
}

IscsiServer::~IscsiServer() = default;

absl::Status IscsiServer::listen() {
  if (auto s = pool_.check(); !s.ok()) return s;
  if (targets_.empty())
    return absl::InvalidArgumentError("no virtual target presents a LUN: no iSCSI target to serve");
  auto port = listen_on(acceptor_, options_.address, options_.port, "--iscsi");
  if (!port.ok()) return port.status();
  port_ = *port;
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
