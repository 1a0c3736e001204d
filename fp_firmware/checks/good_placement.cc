// What firmware may do, which the symbol check must accept: placement new
// into memory it was given, and memcpy.
#include <cstddef>
#include <cstring>
#include <new>

namespace splitpath::fp::checks {

struct Entry {
  unsigned key = 0;
  unsigned value = 0;
};

Entry* place(void* memory, unsigned key) {
  Entry* e = new (memory) Entry();
  e->key = key;
  return e;
}
void copy(Entry* to, const Entry* from) {
  std::memcpy(to, from, sizeof *to);
}

}  // namespace splitpath::fp::checks
