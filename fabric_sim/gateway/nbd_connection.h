// One NBD client connection: the handshake and option haggling, then the
// transmission phase, each request checked by the codec (nbd_codec.h) and
// carried out through the connection's ScsiBridge on its initiator. Replies
// may leave out of order (NBD allows it); writes to the socket are queued and
// sent one at a time. The connection keeps itself alive (shared_from_this)
// while a socket operation or a SCSI command holds it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "fabric_sim/gateway/nbd_codec.h"
#include "fabric_sim/gateway/nbd_server.h"
#include "fabric_sim/gateway/scsi_bridge.h"

namespace splitpath::sim {

class NbdConnection : public std::enable_shared_from_this<NbdConnection> {
 public:
  NbdConnection(boost::asio::ip::tcp::socket socket, NbdServer& server, size_t initiator,
                uint64_t id);
  ~NbdConnection();

  void start();

 private:
  template <typename Then>
  void read(size_t n, Then then);
  void read_option();
  void on_option(const nbd::OptionHeader& header);
  void reply_info(const nbd::OptionHeader& header);
  bool enter_transmission(const std::string& name);
  void read_request();
  void on_request(const nbd::Request& request);
  void execute(const nbd::Request& request, std::vector<uint8_t> data);
  void send(std::vector<uint8_t> bytes);
  void write_next();
  // A protocol violation: logged, and the connection closes.
  void drop(const std::string& reason);
  void close();
  // Once closed and every command ended, the initiator goes back to the pool.
  void maybe_release();

  boost::asio::ip::tcp::socket socket_;
  NbdServer& server_;
  size_t initiator_;
  std::string label_;
  std::vector<uint8_t> buffer_;
  bool no_zeroes_ = false;
  std::optional<ResolvedExport> export_;
  nbd::ExportLimits limits_;
  std::unique_ptr<ScsiBridge> bridge_;
  std::deque<std::vector<uint8_t>> out_;
  bool writing_ = false;
  bool disconnecting_ = false;  // NBD_CMD_DISC seen: finish, then close
  bool closed_ = false;
  bool released_ = false;
};

}  // namespace splitpath::sim
