#include "fabric_sim/gateway/nbd_connection.h"

#include <algorithm>
#include <utility>

#include "boost/asio/buffer.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace asio = boost::asio;

NbdConnection::NbdConnection(asio::ip::tcp::socket socket, NbdServer& server, size_t initiator,
                             uint64_t id)
    : socket_(std::move(socket)),
      server_(server),
      initiator_(initiator),
      label_(fmt::format("connection {} ({})", id, server.pool().name(initiator))) {}

NbdConnection::~NbdConnection() = default;

void NbdConnection::start() {
  boost::system::error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  spdlog::info("nbd {}: from {}:{}", label_, ec ? "?" : peer.address().to_string(),
               ec ? 0 : peer.port());
  send(nbd::build_greeting());
  read(nbd::kClientFlagsSize, [this] {
    auto flags = nbd::parse_client_flags(buffer_);
    if (!flags.ok()) return drop(std::string(flags.status().message()));
    no_zeroes_ = (*flags & nbd::kClientFlagNoZeroes) != 0;
    read_option();
  });
}

template <typename Then>
void NbdConnection::read(size_t n, Then then) {
  buffer_.resize(n);
  asio::async_read(socket_, asio::buffer(buffer_),
                   [self = shared_from_this(), then](boost::system::error_code ec, size_t) {
                     if (self->closed_) return;
                     if (ec) {
                       if (ec == asio::error::eof) {
                         spdlog::info("nbd {}: the client closed the connection", self->label_);
                       } else {
                         spdlog::warn("nbd {}: read: {}", self->label_, ec.message());
                       }
                       return self->close();
                     }
                     then();
                   });
}

void NbdConnection::read_option() {
  read(nbd::kOptionHeaderSize, [this] {
    auto header = nbd::parse_option_header(buffer_);
    if (!header.ok()) return drop(std::string(header.status().message()));
    const nbd::OptionHeader h = *header;
    if (h.length == 0) {
      buffer_.clear();
      return on_option(h);
    }
    read(h.length, [this, h] { on_option(h); });
  });
}

void NbdConnection::on_option(const nbd::OptionHeader& h) {
  switch (h.option) {
    case nbd::kOptExportName: {
      const std::string name(buffer_.begin(), buffer_.end());
      if (!enter_transmission(name)) {
        // The protocol has no error reply to EXPORT_NAME: the server closes.
        return drop(fmt::format("NBD_OPT_EXPORT_NAME of unknown export '{}'", name));
      }
      send(nbd::build_export_name_reply(export_->size_bytes, limits_.transmission_flags,
                                        no_zeroes_));
      return read_request();
    }
    case nbd::kOptAbort:
      send(nbd::build_option_reply(h.option, nbd::kRepAck));
      spdlog::info("nbd {}: the client aborted the negotiation", label_);
      disconnecting_ = true;
      return maybe_release();
    case nbd::kOptList:
      if (h.length != 0) {
        send(nbd::build_option_reply(h.option, nbd::kRepErrInvalid));
      } else {
        for (const auto& e : server_.plan().exports)
          send(nbd::build_option_reply(h.option, nbd::kRepServer, nbd::server_reply_data(e.name)));
        send(nbd::build_option_reply(h.option, nbd::kRepAck));
      }
      return read_option();
    case nbd::kOptInfo:
    case nbd::kOptGo:
      return reply_info(h);
    default:
      // STARTTLS, STRUCTURED_REPLY, metadata contexts and anything unknown.
      send(nbd::build_option_reply(h.option, nbd::kRepErrUnsup));
      return read_option();
  }
}

void NbdConnection::reply_info(const nbd::OptionHeader& h) {
  auto request = nbd::parse_info_request(buffer_);
  if (!request.ok()) {
    spdlog::warn("nbd {}: {}", label_, std::string(request.status().message()));
    send(nbd::build_option_reply(h.option, nbd::kRepErrInvalid));
    return read_option();
  }
  const bool go = h.option == nbd::kOptGo;
  std::string name = request->export_name;
  if (!enter_transmission(name)) {
    spdlog::info("nbd {}: {} of unknown export '{}'", label_, go ? "NBD_OPT_GO" : "NBD_OPT_INFO",
                 name);
    send(nbd::build_option_reply(h.option, nbd::kRepErrUnknown));
    return read_option();
  }
  send(nbd::build_option_reply(
      h.option, nbd::kRepInfo,
      nbd::info_export_data(export_->size_bytes, limits_.transmission_flags)));
  send(nbd::build_option_reply(
      h.option, nbd::kRepInfo,
      nbd::info_block_size_data(limits_.min_block, std::max<uint32_t>(limits_.min_block, 4096),
                                limits_.max_block)));
  send(nbd::build_option_reply(h.option, nbd::kRepAck));
  if (!go) {
    export_.reset();
    bridge_.reset();
    return read_option();
  }
  spdlog::info("nbd {}: serving export '{}' ({} bytes)", label_, export_->config->name,
               export_->size_bytes);
  read_request();
}

bool NbdConnection::enter_transmission(const std::string& requested) {
  // The empty name is the default export: the first.
  const auto& exports = server_.plan().exports;
  const std::string name = requested.empty() && !exports.empty() ? exports.front().name : requested;
  export_ = server_.pool().resolve(initiator_, name);
  if (!export_) return false;
  limits_.size = export_->size_bytes;
  limits_.min_block = export_->lun.block_size;
  limits_.max_block = server_.options().max_block / limits_.min_block * limits_.min_block;
  limits_.transmission_flags = nbd::kTransHasFlags | nbd::kTransSendFlush | nbd::kTransSendFua;
  if (export_->config->read_only) limits_.transmission_flags |= nbd::kTransReadOnly;
  bridge_ = std::make_unique<ScsiBridge>(server_.pool().kernel(), server_.pool().host(initiator_),
                                         export_->lun,
                                         fmt::format("{} '{}'", label_, export_->config->name));
  return true;
}

void NbdConnection::read_request() {
  read(nbd::kRequestSize, [this] {
    auto request = nbd::parse_request(buffer_);
    if (!request.ok()) return drop(std::string(request.status().message()));
    on_request(*request);
  });
}

void NbdConnection::on_request(const nbd::Request& r) {
  ++server_.stats().requests;
  const nbd::Verdict verdict = nbd::check_request(r, limits_);
  if (verdict.kind == nbd::Verdict::Kind::kDrop) return drop(verdict.reason);
  // A write's payload follows its header whatever the verdict.
  const bool has_payload = r.type == nbd::kCmdWrite;
  auto go_on = [this, r, verdict](std::vector<uint8_t> data) {
    if (verdict.kind == nbd::Verdict::Kind::kReject) {
      ++server_.stats().errors;
      spdlog::warn("nbd {}: rejected: {}", label_, verdict.reason);
      send(nbd::build_simple_reply(verdict.error, r.cookie));
    } else if (r.type == nbd::kCmdDisc) {
      spdlog::info("nbd {}: the client disconnected", label_);
      disconnecting_ = true;
      return maybe_release();
    } else {
      execute(r, std::move(data));
    }
    read_request();
  };
  if (!has_payload || r.length == 0) return go_on({});
  read(r.length, [this, go_on] { go_on(std::move(buffer_)); });
}

void NbdConnection::execute(const nbd::Request& r, std::vector<uint8_t> data) {
  ScsiBridge::Op op = ScsiBridge::Op::kFlush;
  if (r.type == nbd::kCmdRead) op = ScsiBridge::Op::kRead;
  if (r.type == nbd::kCmdWrite) op = ScsiBridge::Op::kWrite;
  const bool fua = (r.flags & nbd::kCmdFlagFua) != 0;
  const uint64_t cookie = r.cookie;
  const uint32_t length = r.length;
  bridge_->submit(op, r.offset, r.length, fua, std::move(data),
                  [self = shared_from_this(), cookie, op, length](BridgeResult result) {
                    if (self->closed_) return self->maybe_release();
                    if (result.nbd_error != 0) ++self->server_.stats().errors;
                    std::vector<uint8_t> reply = nbd::build_simple_reply(result.nbd_error, cookie);
                    if (result.nbd_error == 0 && op == ScsiBridge::Op::kRead) {
                      // A short data-in (underrun) would break the stream: pad.
                      result.data.resize(length, 0);
                      reply.insert(reply.end(), result.data.begin(), result.data.end());
                    }
                    self->send(std::move(reply));
                    self->maybe_release();
                  });
}

void NbdConnection::send(std::vector<uint8_t> bytes) {
  if (closed_) return;
  out_.push_back(std::move(bytes));
  if (!writing_) write_next();
}

void NbdConnection::write_next() {
  if (out_.empty() || closed_) {
    writing_ = false;
    maybe_release();
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        spdlog::warn("nbd {}: write: {}", self->label_, ec.message());
                        return self->close();
                      }
                      self->out_.pop_front();
                      self->write_next();
                    });
}

void NbdConnection::drop(const std::string& reason) {
  ++server_.stats().dropped;
  spdlog::warn("nbd {}: dropped: {}", label_, reason);
  close();
}

void NbdConnection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  out_.clear();
  maybe_release();
}

void NbdConnection::maybe_release() {
  // After DISC (or ABORT), close once every reply is written.
  if (!closed_ && disconnecting_ && !writing_ && out_.empty() &&
      (!bridge_ || bridge_->in_flight() == 0)) {
    close();
    return;
  }
  if (!closed_ || released_) return;
  if (bridge_ && bridge_->in_flight() > 0) return;
  released_ = true;
  server_.pool().release(initiator_);
  spdlog::info("nbd {}: closed", label_);
}

}  // namespace splitpath::sim
