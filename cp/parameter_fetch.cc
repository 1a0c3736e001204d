// Parameter lists the CP needs from the host before it can carry a command
// out (PERSISTENT RESERVE OUT's, UNMAP's): FpGetData asks the FP for the
// host's Data-Out, which comes back in FpGetData replies of kMaxChunk bytes.
#include "cp/control_path_impl.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {

bool ControlPath::Impl::fetch_parameters(uint32_t port, const fpapi::UpstreamIo& io,
                                         uint32_t length, ParametersDone done) {
  const uint64_t key = io_key(port, io.utag);
  if (parameter_fetches.contains(key)) {
    ++stats.dropped;  // the FP reused a utag the CP still owns
    return false;
  }
  parameter_fetches[key] = ParameterFetch{io, length, {}, std::move(done)};
  fpapi::FpGetData g;
  g.utag = io.utag;
  g.offset = 0;
  g.length = length;
  link.send(port, g);
  return true;
}

void ControlPath::Impl::on_get_data_reply(uint32_t port, const fpapi::FpGetDataReply& r) {
  auto it = parameter_fetches.find(io_key(port, r.utag));
  if (it == parameter_fetches.end()) {
    ++stats.dropped;
    return;
  }
  ParameterFetch& f = it->second;
  const fpapi::UpstreamIo io = f.io;
  if (r.status != fpapi::ApiStatus::kOk || r.offset != f.parameters.size()) {
    parameter_fetches.erase(it);
    complete_check(port, io.utag, fc::sense_key::kAbortedCommand,
                   fc::asc::kLogicalUnitCommunicationFailure.asc,
                   fc::asc::kLogicalUnitCommunicationFailure.ascq);
    return;
  }
  const auto bytes = r.data.view();
  f.parameters.insert(f.parameters.end(), bytes.begin(), bytes.end());
  if (f.parameters.size() < f.want && !bytes.empty()) return;
  std::vector<uint8_t> parameters = std::move(f.parameters);
  ParametersDone done = std::move(f.done);
  parameter_fetches.erase(it);
  done(port, io, std::move(parameters));
}

}  // namespace splitpath::cp
