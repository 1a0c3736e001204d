// Building a CT_IU (preamble + name-server body) into one buffer.
#pragma once

#include <cstddef>
#include <span>

#include "splitpath/fc/ct.h"

namespace splitpath::sim {

// Writes `preamble` then whatever `body(std::span<uint8_t> rest)` writes (it
// returns a WireResult<size_t>); returns the IU's size, or 0 if it did not fit.
template <typename BodyWriter>
size_t build_ct_iu(const fc::CtPreamble& preamble, std::span<uint8_t> out, BodyWriter body) {
  auto head = fc::encode_ct_preamble(preamble, out);
  if (!head.ok()) return 0;
  auto rest = body(out.subspan(fc::kCtPreambleSize));
  if (!rest.ok()) return 0;
  return fc::kCtPreambleSize + *rest;
}

}  // namespace splitpath::sim
