// Shared by the fuzz replay tests: the seed corpus of a target, read from
// tests/fuzz/corpus/<target>/ (every file is one input), and a deterministic
// mutator that turns seeds into malformed variants.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/fuzz_random.h"

namespace splitpath::testing {

using FuzzInput = std::vector<uint8_t>;

// The files of tests/fuzz/corpus/<target>/, in name order (deterministic).
inline std::vector<FuzzInput> load_corpus(const std::string& target) {
  const std::filesystem::path dir = std::filesystem::path(SPLITPATH_FUZZ_CORPUS_DIR) / target;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<FuzzInput> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

// Writes `inputs` as files NNN.bin under `dir` (to refresh a corpus).
inline void write_corpus(const std::string& dir, const std::vector<FuzzInput>& inputs,
                         const char* extension) {
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < inputs.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/%03zu%s", i, extension);
    std::ofstream out(dir + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(inputs[i].data()),
              static_cast<std::streamsize>(inputs[i].size()));
  }
}

// One mutation of `in`: flipped, overwritten, inserted, erased bytes, a cut,
// or a splice of two seeds.
inline FuzzInput mutate(const FuzzInput& in, const FuzzInput& other, Xorshift& r) {
  FuzzInput out = in;
  const size_t edits = 1 + r.below(8);
  for (size_t e = 0; e < edits; ++e) {
    switch (r.below(6)) {
      case 0:
        if (!out.empty()) out[r.below(out.size())] ^= static_cast<uint8_t>(1u << r.below(8));
        break;
      case 1:
        if (!out.empty()) out[r.below(out.size())] = r.byte();
        break;
      case 2:
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(r.below(out.size() + 1)), r.byte());
        break;
      case 3:
        if (!out.empty()) out.erase(out.begin() + static_cast<std::ptrdiff_t>(r.below(out.size())));
        break;
      case 4:
        out.resize(r.below(out.size() + 1));
        break;
      case 5: {
        const size_t at = r.below(out.size() + 1);
        const size_t from = r.below(other.size() + 1);
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at),
                   other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
    }
  }
  return out;
}

}  // namespace splitpath::testing
