#include "fabric_sim/net/frame.h"

namespace splitpath::sim {

FramePool::~FramePool() {
  for (Frame* slab : slabs_)
    delete[] slab;
}

void FramePool::grow() {
  Frame* slab = new Frame[per_slab_];
  slabs_.push_back(slab);
  for (size_t i = 0; i < per_slab_; ++i)
    free_.push(&slab[i]);
}

}  // namespace splitpath::sim
