// The CP's copy agent: disk-to-disk copies for the data services (a
// migration's barrier, a snapshot's push), each run by one port's FP as an
// FPCopyIO (the data never reaches the CP). The port is one whose virtual
// initiator is logged into both disks, taken round robin so copies spread
// over the switch; a failed copy is tried again (possibly from another port)
// up to CpConfig::copy_retries times.
#include <algorithm>
#include <utility>

#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::cp {

void ControlPath::Impl::copy_blocks(const CopyRequest& request, std::function<void(bool)> done,
                                    uint32_t attempt) {
  std::optional<uint32_t> port;
  for (uint32_t i = 0; i < port_count() && !port; ++i) {
    const uint32_t p = (copy_turn + i) % port_count();
    if (disk_ready(p, request.src_disk) && disk_ready(p, request.dst_disk)) port = p;
  }
  if (!port) {
    // Log port 0's virtual initiator in (the logins retry on their own) and
    // look again shortly.
    if (port_count() > 0) {
      want_login(0, request.src_disk);
      want_login(0, request.dst_disk);
    }
    later(config.resolve_retry_ns, [this, request, done = std::move(done), attempt]() mutable {
      copy_blocks(request, std::move(done), attempt);
    });
    return;
  }
  copy_turn = *port + 1;
  const auto& disks = metadata.disks();
  fpapi::FpCopyIO m;
  m.dtag = next_dtag++;
  if (next_dtag == fpapi::kNoTag) next_dtag = 1;
  m.src_target = disks[request.src_disk].port_id.value_or(0);
  m.src_lun = request.src_lun;
  m.src_lba = request.src_lba;
  m.dst_target = disks[request.dst_disk].port_id.value_or(0);
  m.dst_lun = request.dst_lun;
  m.dst_lba = request.dst_lba;
  m.blocks = request.blocks;
  m.block_size = request.block_size;
  copy_tasks[m.dtag] = CopyTask{*port, request, attempt, std::move(done)};
  ++stats.copies;
  link.send(*port, m);
  later(config.copy_timeout_ns, [this, dtag = m.dtag, attempt] { copy_timed_out(dtag, attempt); });
}

void ControlPath::Impl::copy_timed_out(uint32_t dtag, uint32_t attempt) {
  auto it = copy_tasks.find(dtag);
  if (it == copy_tasks.end() || it->second.attempt != attempt) return;
  CopyTask& task = it->second;
  if (task.aborting) {
    // The FP never answered the abort: give the copy up here.
    CopyTask t = std::move(task);
    copy_tasks.erase(it);
    return copy_failed(std::move(t));
  }
  task.aborting = true;
  ++stats.copy_timeouts;
  spdlog::warn("cp: copy {} on port {} has not ended after {} ns: aborting it", dtag, task.port,
               config.copy_timeout_ns);
  fpapi::FpAbortPendingIOs a;
  a.req_id = link.next_req_id();
  a.filter.owner = fpapi::kOwnerCopy;
  a.filter.utag = dtag;
  // The copy ends with CpDispatchIOComplete (transport_error) before this reply.
  link.expect_reply(a.req_id, [](const fpapi::FpReply&) {});
  link.send(task.port, a);
  later(config.copy_timeout_ns, [this, dtag, attempt] { copy_timed_out(dtag, attempt); });
}

void ControlPath::Impl::copy_failed(CopyTask task) {
  ++stats.copy_failures;
  if (task.attempt < config.copy_retries) {
    const uint64_t backoff = config.resolve_retry_ns << std::min<uint32_t>(task.attempt, 16);
    later(backoff, [this, task = std::move(task)]() mutable {
      copy_blocks(task.request, std::move(task.done), task.attempt + 1);
    });
  } else if (task.done) {
    task.done(false);
  }
}

std::vector<CopyRequest> ControlPath::Impl::plan_copies(const Vseg& seg, uint64_t start,
                                                        uint64_t end, uint32_t dst_disk,
                                                        const map::SimpleStorage& dst) const {
  std::vector<CopyRequest> out;
  const uint32_t block_size = metadata.volume_by_lv(seg.lv_id)->block_size;
  for (uint64_t b = start; b < end;) {
    const map::Extent* e = seg.extent_at(b);
    const uint64_t piece_end = std::min(end, e ? e->end() : end);
    const map::SimpleStorage src =
        e ? seg.redirects[e->redirect_index].descriptor.simple() : map::SimpleStorage{};
    CopyRequest c;
    c.src_disk = e ? seg.redirect_disk[e->redirect_index] : ~0u;
    c.src_lun = src.lun;
    c.src_lba = src.start_lba + b;
    c.dst_disk = dst_disk;
    c.dst_lun = dst.lun;
    c.dst_lba = dst.start_lba + b;
    c.blocks = static_cast<uint32_t>(piece_end - b);
    c.block_size = block_size;
    out.push_back(c);
    b = piece_end;
  }
  return out;
}

bool ControlPath::Impl::on_copy_complete(const fpapi::CpDispatchIOComplete& c) {
  auto it = copy_tasks.find(c.dtag);
  if (it == copy_tasks.end()) return false;
  CopyTask task = std::move(it->second);
  copy_tasks.erase(it);
  const CopyRequest& r = task.request;
  const bool good = !c.transport_error && c.scsi_status == fc::scsi_status::kGood &&
                    c.residual == 0 &&
                    uint64_t{c.bytes_transferred} == uint64_t{r.blocks} * r.block_size;
  if (good) {
    stats.copied_blocks += r.blocks;
    if (task.done) task.done(true);
    return true;
  }
  spdlog::warn(
      "cp: copy of {} blocks from disk {} LBA {} to disk {} LBA {} failed on port {} "
      "(status {:#04x}, transport error {}, {} bytes), attempt {}",
      r.blocks, r.src_disk, r.src_lba, r.dst_disk, r.dst_lba, task.port, c.scsi_status,
      c.transport_error, c.bytes_transferred, task.attempt + 1);
  copy_failed(std::move(task));
  return true;
}

}  // namespace splitpath::cp
