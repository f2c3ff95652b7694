// Counts calls of the global operator new (every form, any thread) while
// switched on. Linking counting_allocator.cc into a test binary replaces the
// global allocation functions for that binary.
#pragma once

#include <cstddef>

namespace meshdns::testing {

// Counting from zero, on from now.
void StartCountingAllocations();
// Off; returns what was counted since the start.
size_t StopCountingAllocations();
// What has been counted so far (counting may still be on).
size_t CountedAllocations();

// Counts while alive.
class CountAllocations {
 public:
  CountAllocations() { StartCountingAllocations(); }
  ~CountAllocations() { StopCountingAllocations(); }
  size_t Stop() { return StopCountingAllocations(); }
};

// Keeps the optimiser from proving a value unused (and so eliding its allocation).
template <typename T>
void Escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
}

}  // namespace meshdns::testing
