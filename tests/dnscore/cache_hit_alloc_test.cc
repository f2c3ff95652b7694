// The hot path allocates nothing (style guide): a query answered from the
// cache must not touch the heap. This binary replaces the global allocation
// functions with ones that count calls while counting is switched on, then
// runs the whole admission stage (parse, ACL, cache lookup, reply writing)
// for cache hits.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "dnscore/admission.h"
#include "tests/dnscore/wire_builder.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocations{0};

void* CountedAlloc(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* CountedAlignedAlloc(std::size_t size, std::align_val_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  return std::aligned_alloc(a, (size + a - 1) / a * a);
}

// Counts every allocation made while alive on this thread's watch.
class CountAllocations {
 public:
  CountAllocations() {
    g_allocations.store(0);
    g_counting.store(true);
  }
  ~CountAllocations() { Stop(); }
  size_t Stop() {
    g_counting.store(false);
    return g_allocations.load();
  }
};

// Keeps the optimiser from proving a value unused (and so eliding its allocation).
template <typename T>
void Escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
}

}  // namespace

// g++ 12 inlines these into callers, then mistakes free() of memory from a
// replaced operator new for a malloc/new mismatch; here both sides are malloc/free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  void* p = CountedAlloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size) {
  void* p = CountedAlloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return CountedAlloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return CountedAlloc(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  void* p = CountedAlignedAlloc(size, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size, std::align_val_t align) {
  void* p = CountedAlignedAlloc(size, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace meshdns {
namespace {

using testing::MakeQuery;
using testing::Wire;

TEST(AllocationCounterTest, CountsAllocationsWhileOn) {
  // Positive control: without it, a counter that never counts would pass the test below.
  size_t counted;
  {
    CountAllocations count;
    auto* s = new std::string(100, 'x');
    Escape(s);
    delete s;
    std::vector<int> v(1000);
    Escape(v.data());
    counted = count.Stop();
  }
  EXPECT_GE(counted, 2u);

  // And it is off otherwise.
  g_allocations.store(0);
  std::string off(100, 'y');
  Escape(&off);
  EXPECT_EQ(g_allocations.load(), 0u);
}

TEST(CacheHitAllocationTest, AnsweringFromTheCacheAllocatesNothing) {
  // Everything that may allocate happens before counting starts.
  Wire reply = Wire()
                   .Header(0, kFlagQR | kFlagRD | kFlagRA, 1, 2)
                   .Question("www.example.com", kTypeA)
                   .Cname("www.example.com", 30, "web.example.com")
                   .A("web.example.com", 30, {192, 0, 2, 80});
  auto stored = std::make_shared<const StoredReply>(*StoredReply::FromMessage(reply, TtlPolicy{}));
  ASSERT_TRUE(stored->cacheable);
  PacketCache cache(1000);
  QueryView warm;
  std::vector<uint8_t> first = MakeQuery("www.example.com", kTypeA);
  ASSERT_EQ(ParseQuery(first, warm), QueryCheck::kOk);
  cache.Insert(CacheKey::For(warm), stored, 0);

  const Acl acl({*Cidr::Parse("10.0.0.0/8"), *Cidr::Parse("::1/128")}, {*Cidr::Parse("10.9.0.0/16")});
  const IpAddress client = IpAddress::FromV4({10, 1, 2, 3});
  // Different IDs, name case, RD and EDNS (without DO): each still the same cache key.
  const std::vector<std::vector<uint8_t>> queries = {
      MakeQuery("www.example.com", kTypeA, {.id = 1}),
      MakeQuery("WWW.EXAMPLE.COM", kTypeA, {.id = 2}),
      MakeQuery("wWw.ExAmPlE.cOm", kTypeA, {.id = 3, .flags = 0}),
      MakeQuery("Www.Example.Com", kTypeA, {.id = 4, .edns_udp_size = 1232}),
  };
  constexpr int kRounds = 5;
  std::vector<uint8_t> out(4096);
  std::vector<Admitted> results(queries.size() * kRounds);
  std::vector<uint16_t> ids(results.size());
  QueryView view;

  size_t allocations;
  {
    CountAllocations count;
    for (int round = 0; round < kRounds; ++round) {
      for (size_t i = 0; i < queries.size(); ++i) {
        const size_t k = round * queries.size() + i;
        results[k] = AdmitQuery(queries[i], client, {.acl = &acl, .cache = &cache, .udp = true, .now = static_cast<Millis>(1000 + k)}, view, out);
        ids[k] = ReadU16(&out[0]);
      }
    }
    allocations = count.Stop();
  }

  EXPECT_EQ(allocations, 0u) << "a cache hit must not touch the heap";
  for (size_t k = 0; k < results.size(); ++k) {
    EXPECT_EQ(results[k].verdict, Verdict::kReply) << k;
    EXPECT_GT(results[k].size, stored->question_end) << k << ": the whole answer, not a TC stub";
    EXPECT_EQ(ids[k], ReadU16(&queries[k % queries.size()][0])) << k;
  }
  EXPECT_EQ(cache.hits(), results.size());
}

}  // namespace
}  // namespace meshdns
