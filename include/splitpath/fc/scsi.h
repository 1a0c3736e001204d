// All SCSI codecs (SPC-4, SBC-3): CDBs, sense data, INQUIRY/VPD data and the other
// parameter data formats. Include the individual headers to depend on less.
#pragma once

#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fc/scsi_data.h"
#include "splitpath/fc/scsi_inquiry.h"
#include "splitpath/fc/scsi_lun.h"
#include "splitpath/fc/scsi_mode.h"
#include "splitpath/fc/scsi_sense.h"
