#include "fabric_sim/torture/event_log.h"

namespace splitpath::sim::torture {

EventLog::~EventLog() {
  if (file_) std::fclose(file_);
}

bool EventLog::open(const std::string& path) {
  if (file_) std::fclose(file_);
  file_ = std::fopen(path.c_str(), "w");
  return file_ != nullptr;
}

}  // namespace splitpath::sim::torture
