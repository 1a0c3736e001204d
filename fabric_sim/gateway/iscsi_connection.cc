#include "fabric_sim/gateway/iscsi_connection.h"

#include <utility>

#include "boost/asio/buffer.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "fmt/format.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::sim {

namespace asio = boost::asio;

IscsiConnection::IscsiConnection(asio::ip::tcp::socket socket, IscsiServer& server, uint64_t id)
    : socket_(std::move(socket)), server_(server), label_(fmt::format("connection {}", id)) {
  boost::system::error_code ec;
  const auto local = socket_.local_endpoint(ec);
  const auto address = ec ? asio::ip::make_address(server_.options().address, ec) : local.address();
  target_address_ = address.is_v6() ? fmt::format("[{}]:{},1", address.to_string(), server_.port())
                                    : fmt::format("{}:{},1", address.to_string(), server_.port());
  machine_ = std::make_unique<iscsi::Connection>(*this, server_.options().settings, label_);
}

IscsiConnection::~IscsiConnection() = default;

void IscsiConnection::start() {
  boost::system::error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  spdlog::info("iscsi {}: from {}:{}", label_, ec ? "?" : peer.address().to_string(),
               ec ? 0 : peer.port());
  read_header();
}

void IscsiConnection::read_header() {
  if (closed_ || closing_) return;
  header_.resize(iscsi::kBhsSize);
  asio::async_read(
      socket_, asio::buffer(header_),
      [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (self->closed_) return;
        if (ec) {
          if (ec == asio::error::eof) {
            spdlog::info("iscsi {}: the initiator closed the connection", self->label_);
          } else {
            spdlog::warn("iscsi {}: read: {}", self->label_, ec.message());
          }
          return self->shutdown();
        }
        auto framing = iscsi::parse_framing(self->header_, self->machine_->max_data_segment());
        if (!framing.ok()) {
          self->machine_->on_framing_error(std::string(framing.status().message()));
          return;
        }
        self->read_rest(*framing);
      });
}

void IscsiConnection::read_rest(const iscsi::Framing& framing) {
  rest_.resize(framing.rest());
  auto then = [self = shared_from_this()](boost::system::error_code ec, size_t) {
    if (self->closed_) return;
    if (ec) {
      spdlog::warn("iscsi {}: read: {}", self->label_, ec.message());
      return self->shutdown();
    }
    auto pdu = iscsi::parse_pdu(self->header_, self->rest_);
    if (!pdu.ok()) {
      self->machine_->on_framing_error(std::string(pdu.status().message()));
      return;
    }
    self->machine_->on_pdu(*pdu);
    self->sync_stats();
    if (self->machine_->phase() != iscsi::Connection::Phase::kClosed) self->read_header();
  };
  if (rest_.empty()) {
    then(boost::system::error_code{}, 0);
    return;
  }
  asio::async_read(socket_, asio::buffer(rest_), std::move(then));
}

void IscsiConnection::sync_stats() {
  auto& s = server_.stats();
  const auto& m = machine_->stats();
  s.commands += m.commands - commands_counted_;
  s.not_good += m.not_good - not_good_counted_;
  commands_counted_ = m.commands;
  not_good_counted_ = m.not_good;
  if (!counted_ && machine_->phase() == iscsi::Connection::Phase::kFullFeature) {
    counted_ = true;
    ++(machine_->discovery() ? s.discovery_sessions : s.sessions);
  }
}

void IscsiConnection::send(std::vector<uint8_t> bytes) {
  if (closed_) return;
  out_.push_back(std::move(bytes));
  if (!writing_) write_next();
}

void IscsiConnection::write_next() {
  if (out_.empty() || closed_) {
    writing_ = false;
    if (closing_) shutdown();
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        spdlog::warn("iscsi {}: write: {}", self->label_, ec.message());
                        return self->shutdown();
                      }
                      self->out_.pop_front();
                      self->write_next();
                    });
}

void IscsiConnection::close(const std::string& reason, bool violation) {
  sync_stats();
  if (violation) {
    ++server_.stats().dropped;
    spdlog::warn("iscsi {}: dropped: {}", label_, reason);
    shutdown();
    return;
  }
  if (!counted_) ++server_.stats().login_failures;
  spdlog::info("iscsi {}: {}", label_, reason);
  closing_ = true;
  if (!writing_) shutdown();
}

void IscsiConnection::shutdown() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  out_.clear();
  maybe_release();
}

void IscsiConnection::maybe_release() {
  if (!closed_ || released_) return;
  if (in_flight_ > 0) return;
  released_ = true;
  if (initiator_) {
    // The session's end is its I_T nexus's end (SPC-4): the initiator logs
    // out of the virtual target, which releases what the nexus held (a
    // SCSI-2 reservation). It is free again at once: the next session's
    // login (ScsiPassthrough) follows the LOGO on the same link, in order.
    Host& host = server_.pool().host(*initiator_);
    const bool logged_out = host.logout_target(target_wwpn_, [](bool) {});
    server_.pool().release(*initiator_);
    spdlog::info("iscsi {}: closed, {}{} free again", label_, server_.pool().name(*initiator_),
                 logged_out ? " logged out and" : "");
  } else {
    spdlog::info("iscsi {}: closed", label_);
  }
}

bool IscsiConnection::attach(size_t index) {
  const auto claimed = server_.pool().claim();
  if (!claimed) {
    ++server_.stats().refused;
    return false;
  }
  initiator_ = *claimed;
  target_wwpn_ = server_.target_config(index).wwpn;
  label_ = fmt::format("{} ({})", label_, server_.pool().name(*initiator_));
  passthrough_ = std::make_unique<ScsiPassthrough>(
      server_.pool().kernel(), server_.pool().host(*initiator_), "iscsi " + label_);
  return true;
}

bool IscsiConnection::lun_exists(uint16_t lun) const {
  return initiator_ && server_.pool().lun(*initiator_, target_wwpn_, lun).has_value();
}

uint64_t IscsiConnection::submit(uint16_t lun, std::vector<uint8_t> cdb, uint32_t data_in_length,
                                 std::vector<uint8_t> data_out, Done done) {
  ScsiPassthrough::Request request;
  request.target_wwpn = target_wwpn_;
  request.lun = lun;
  request.cdb = std::move(cdb);
  request.data_in_length = data_in_length;
  request.data_out = std::move(data_out);
  ++in_flight_;
  return passthrough_->submit(
      std::move(request),
      [self = shared_from_this(), done = std::move(done)](const ScsiResult& r, bool sent) {
        --self->in_flight_;
        iscsi::ScsiOutcome o;
        o.sent = sent;
        o.timed_out = r.timed_out;
        o.status = r.status;
        o.sense = r.sense_bytes;
        o.data_in = r.data_in;
        o.underrun = r.underrun;
        o.overrun = r.overrun;
        o.residual = r.residual;
        done(std::move(o));
        self->sync_stats();
        self->maybe_release();
      });
}

void IscsiConnection::reset(uint16_t lun, bool whole_target, ResetDone done) {
  ScsiPassthrough::Request request;
  request.target_wwpn = target_wwpn_;
  request.lun = lun;
  request.task_management =
      whole_target ? fc::fcp_tmf::kTargetReset : fc::fcp_tmf::kLogicalUnitReset;
  ++in_flight_;
  passthrough_->submit(std::move(request), [self = shared_from_this(), done = std::move(done)](
                                               const ScsiResult& r, bool sent) {
    --self->in_flight_;
    done(sent && !r.timed_out && r.status == fc::scsi_status::kGood);
    self->maybe_release();
  });
}

bool IscsiConnection::cancel(uint64_t id) {
  if (!passthrough_ || !passthrough_->cancel(id)) return false;
  --in_flight_;
  return true;
}

}  // namespace splitpath::sim
