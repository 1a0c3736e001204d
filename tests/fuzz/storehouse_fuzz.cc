// Fuzz target for the storehouse file format (cp/cluster/storehouse.h): any
// bytes go to Storehouse::deserialize, which must neither crash nor change a
// storehouse it rejects, must name the line of every error, and must accept
// again what it writes for any input it accepted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cp/cluster/storehouse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using splitpath::cp::cluster::Storehouse;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Storehouse store;
  store.join(7);
  const std::string before = store.serialize();
  std::string error;
  if (!store.deserialize(text, &error)) {
    if (error.rfind("line ", 0) != 0) {
      std::fprintf(stderr, "storehouse_fuzz: an error that names no line: %s\n", error.c_str());
      std::abort();
    }
    if (store.serialize() != before) {
      std::fprintf(stderr, "storehouse_fuzz: a rejected file changed the storehouse\n");
      std::abort();
    }
    return 0;
  }
  const std::string written = store.serialize();
  Storehouse again;
  if (!again.deserialize(written, &error) || again.serialize() != written) {
    std::fprintf(stderr, "storehouse_fuzz: what it wrote does not read back: %s\n", error.c_str());
    std::abort();
  }
  return 0;
}
