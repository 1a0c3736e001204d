// The topology the split-path tests share: one switch, two hosts zoned with
// one virtual target, three disks. vol0 is one LV over two disks (figure 10):
// 20000 blocks of disk0 from LBA 1000 in extents of 1000 blocks, then 20000
// blocks of disk1 as one extent. vol1 lies on disk2. host0 sees both LUNs,
// host1 only LUN 1 (LUN masking); LUN 2 is vol1 again, read-only.
#pragma once

#include <string>

namespace splitpath::testing {

// `fp` and `vseg1_flags` are spliced into the YAML: FP settings ("key: value"
// lines indented by two) and extra keys of vol0's second VSEG (", fault_on_read:
// true").
inline std::string split_path_yaml(const std::string& fp = "", const std::string& vseg1_flags = "",
                                   const std::string& vseg0_extra = "") {
  return R"(seed: 7
duration: 100ms
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, port: sw0:4, luns: [{lun: 0, size: 64MiB}]}
  - {name: disk1, port: sw0:5, luns: [{lun: 0, size: 64MiB}]}
  - {name: disk2, port: sw0:6, luns: [{lun: 0, size: 64MiB}]}
  - {name: disk3, port: sw0:7, luns: [{lun: 0, size: 64MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 20000}}
  - {name: host1, port: sw0:1, workload: {lba_count: 20000}}
volumes:
  - name: vol0
    switch: sw0
    vsegs:
      - {disk: disk0, lba: 1000, blocks: 20000, extent_blocks: 1000)" +
         vseg0_extra + R"(}
      - {disk: disk1, lba: 0, blocks: 20000)" +
         vseg1_flags + R"(}
  - name: vol1
    switch: sw0
    vsegs: [{disk: disk2, lba: 0, blocks: 40000, extent_blocks: 64}]
virtual_targets:
  - name: vt0
    switch: sw0
    luns:
      - {lun: 0, volume: vol0, hosts: [host0]}
      - {lun: 1, volume: vol1}
      - {lun: 2, volume: vol1, read_only: true}
zones:
  - {name: z0, members: [host0, vt0]}
  - {name: z1, members: [host1, vt0]}
fp:
)" + (fp.empty() ? "  enabled: true\n" : fp);
}

}  // namespace splitpath::testing
