// The CP's device server for virtual LUNs: the answers to every SCSI command a
// host sends a virtual target other than READ/WRITE (which the FPs map to
// physical storage). Pure functions of the CDB and the LU's description: the
// caller keeps per-LU state (reservations, unit attentions) and checks it first.
//
// Commands answered (SPC-4, SBC-3):
//   INQUIRY standard data (with version descriptors) and VPD pages 0x00, 0x80,
//   0x83, 0xB0 (with the limits below), 0xB1, 0xB2 (thin: UNMAP and WRITE SAME
//   with UNMAP deallocate, unmapped blocks read zero);
//   READ CAPACITY(10) and (16); REPORT LUNS; TEST UNIT READY; SYNCHRONIZE
//   CACHE(10/16); START STOP UNIT; MODE SENSE(6/10), caching and control pages;
//   REQUEST SENSE (fixed format only).
// Errors come back as CHECK CONDITION with fixed-format sense data:
//   LUN not exposed (any command but INQUIRY, REPORT LUNS, REQUEST SENSE)
//     -> ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED (0x25/0x00);
//   unknown opcode, and the commands that need state kept by the caller
//     (READ/WRITE, VERIFY, WRITE AND VERIFY, WRITE SAME, UNMAP, COMPARE AND
//     WRITE, RESERVE/RELEASE(6), PERSISTENT RESERVE IN/OUT)
//     -> ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (0x20/0x00);
//   CDB shorter than its opcode's length, a bad or unsupported field, VPD or
//     mode page not served -> ILLEGAL REQUEST, INVALID FIELD IN CDB (0x24/0x00),
//     with the sense-key-specific field pointer to the offending CDB byte when
//     there is one;
//   SYNCHRONIZE CACHE past the last LBA -> ILLEGAL REQUEST, LBA OUT OF RANGE;
//   MODE SENSE of saved values -> ILLEGAL REQUEST, SAVING PARAMETERS NOT SUPPORTED.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace splitpath::cp {

// What the device server needs to know of one virtual LU.
struct LogicalUnitInfo {
  uint16_t lun = 0;
  uint32_t block_size = 512;
  uint64_t blocks = 0;
  uint64_t target_wwpn = 0;          // the virtual target's WWPN: names the LU in VPD 0x80/0x83
  bool read_only = false;            // MODE SENSE reports WP
  uint32_t max_transfer_blocks = 0;  // VPD 0xB0 MAXIMUM TRANSFER LENGTH; 0: no limit reported
};

struct ScsiReply {
  uint8_t status = 0;          // fc::scsi_status::
  std::vector<uint8_t> data;   // Data-In, already cut to the CDB's allocation length
  std::vector<uint8_t> sense;  // fixed-format sense data with CHECK CONDITION, else empty
};

// Answers one command. `cdb` is the FCP_CDB (16 bytes) or just the command's
// bytes. `unit` is null when the addressed LUN is not exposed to this
// initiator; `visible_luns` are the LUNs the initiator may see, in any order
// (REPORT LUNS lists them sorted, without duplicates; numbers above 16383 cannot
// be addressed and are left out). Never fails: malformed input yields sense data.
ScsiReply answer_target_command(std::span<const uint8_t> cdb, const LogicalUnitInfo* unit,
                                std::span<const uint16_t> visible_luns);

// CHECK CONDITION with 18 bytes of fixed-format current sense data and no
// sense-key-specific information.
ScsiReply check_condition(uint8_t sense_key, uint8_t asc, uint8_t ascq);

// Limits of the block commands the CP carries out (cp/block_commands.cc), as
// VPD page 0xB0 reports them. One block of COMPARE AND WRITE never spans two
// extents, so a single leg compares and writes it atomically on the disk.
inline constexpr uint32_t kMaxCompareAndWriteBlocks = 1;
inline constexpr uint32_t kMaxUnmapBlocks = 1u << 20;
inline constexpr uint32_t kMaxUnmapDescriptors = 64;
inline constexpr uint64_t kMaxWriteSameBlocks = 1u << 15;

// Identity strings of the standard INQUIRY data.
inline constexpr char kInquiryVendor[] = "SPLITPTH";
inline constexpr char kInquiryProduct[] = "VIRTUAL VOLUME";
inline constexpr char kInquiryRevision[] = "0001";

// The IEEE company ID in the NAA 6 LU designators of virtual LUs ("SP", the OUI
// of the WWPNs the simulator makes up).
inline constexpr uint32_t kSplitpathOui = 0x005350;

}  // namespace splitpath::cp
