// One iSCSI TCP connection: reads PDUs (the 48-byte BHS, then its AHSs and
// padded data segment, within the MaxRecvDataSegmentLength in force) and
// feeds them to the target state machine (iscsi_target.h), for which it is
// the Environment: it writes the PDUs the machine builds (queued, one write
// at a time), claims a gateway initiator when a normal session logs in, and
// carries the session's SCSI commands through a ScsiPassthrough on that
// initiator. It keeps itself alive (shared_from_this) while a socket
// operation or a SCSI command holds it, and gives the initiator back once
// closed and every command ended, after logging it out of the session's
// virtual target (the session's end ends its FC I_T nexus).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "fabric_sim/gateway/iscsi_server.h"
#include "fabric_sim/gateway/iscsi_target.h"
#include "fabric_sim/gateway/scsi_passthrough.h"

namespace splitpath::sim {

class IscsiConnection : public std::enable_shared_from_this<IscsiConnection>,
                        public iscsi::Environment {
 public:
  IscsiConnection(boost::asio::ip::tcp::socket socket, IscsiServer& server, uint64_t id);
  ~IscsiConnection() override;

  void start();

  // iscsi::Environment.
  void send(std::vector<uint8_t> bytes) override;
  void close(const std::string& reason, bool violation) override;
  const std::vector<iscsi::TargetInfo>& targets() const override { return server_.targets(); }
  std::string target_address() const override { return target_address_; }
  uint16_t new_tsih() override { return server_.new_tsih(); }
  bool attach(size_t index) override;
  bool lun_exists(uint16_t lun) const override;
  uint64_t submit(uint16_t lun, std::vector<uint8_t> cdb, uint32_t data_in_length,
                  std::vector<uint8_t> data_out, Done done) override;
  bool cancel(uint64_t id) override;
  void reset(uint16_t lun, bool whole_target, ResetDone done) override;

 private:
  void read_header();
  void read_rest(const iscsi::Framing& framing);
  void write_next();
  void shutdown();
  void maybe_release();
  // Counts what the state machine did since the last call in the server's stats.
  void sync_stats();

  boost::asio::ip::tcp::socket socket_;
  IscsiServer& server_;
  std::string label_;
  std::string target_address_;
  std::unique_ptr<iscsi::Connection> machine_;
  std::vector<uint8_t> header_;
  std::vector<uint8_t> rest_;
  std::deque<std::vector<uint8_t>> out_;
  bool writing_ = false;
  bool closing_ = false;  // close once everything queued is written
  bool closed_ = false;
  std::optional<size_t> initiator_;
  uint64_t target_wwpn_ = 0;
  std::unique_ptr<ScsiPassthrough> passthrough_;
  size_t in_flight_ = 0;
  bool released_ = false;
  bool counted_ = false;  // the session's login was counted in the stats
  uint64_t commands_counted_ = 0;
  uint64_t not_good_counted_ = 0;
};

}  // namespace splitpath::sim
