// Deliberately uses the heap, as firmware must not: the symbol check must
// refuse the library built from it (operator new, operator delete, malloc).
#include <cstdlib>

namespace splitpath::fp::checks {

int* make_counter() {
  return new int(1);
}
void drop_counter(int* p) {
  delete p;
}
void* raw_block(unsigned n) {
  return std::malloc(n);
}

}  // namespace splitpath::fp::checks
