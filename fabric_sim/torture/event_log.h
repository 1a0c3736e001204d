// The torture run's event log: one line per host I/O event, downstream
// command, fault and update, with its simulated time. Written only when a
// path is given (a failing seed's replay), so campaigns pay nothing for it.
#pragma once

#include <cstdio>
#include <string>

#include "fabric_sim/kernel/kernel.h"
#include "fmt/format.h"

namespace splitpath::sim::torture {

class EventLog {
 public:
  EventLog() = default;
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Opens `path` for writing; false if it cannot be created.
  bool open(const std::string& path);
  bool enabled() const { return file_ != nullptr; }

  template <typename... Args>
  void log(SimTime at, fmt::format_string<Args...> format, Args&&... args) {
    if (!file_) return;
    fmt::print(file_, "{:>15} ", at);
    fmt::print(file_, format, std::forward<Args>(args)...);
    std::fputc('\n', file_);
  }

 private:
  std::FILE* file_ = nullptr;
};

}  // namespace splitpath::sim::torture
