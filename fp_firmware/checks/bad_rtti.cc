// Deliberately uses RTTI (built with -frtti on purpose): the symbol check must
// refuse it (__dynamic_cast, typeinfo).
namespace splitpath::fp::checks {

struct Base {
  virtual ~Base() = default;
};
struct Derived : Base {
  int value = 7;
};

int value_of(Base* b) {
  Derived* d = dynamic_cast<Derived*>(b);
  return d != nullptr ? d->value : 0;
}

}  // namespace splitpath::fp::checks
