// Deliberately throws (built with -fexceptions on purpose): the symbol check
// must refuse it (__cxa_allocate_exception, __cxa_throw).
namespace splitpath::fp::checks {

int checked(int v) {
  if (v < 0) throw v;
  return v;
}

}  // namespace splitpath::fp::checks
