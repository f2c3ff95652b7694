// The hot path allocates nothing (style guide): a query answered from the
// cache must not touch the heap. This binary replaces the global allocation
// functions with ones that count calls while counting is switched on, then
// runs the whole admission stage (parse, ACL, cache lookup, reply writing)
// for cache hits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dnscore/admission.h"
#include "tests/dnscore/wire_builder.h"
#include "tests/support/counting_allocator.h"

namespace meshdns {
namespace {

using testing::CountAllocations;
using testing::CountedAllocations;
using testing::Escape;
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
  std::string off(100, 'y');
  Escape(&off);
  EXPECT_EQ(CountedAllocations(), counted);
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

// A Corefile block's acl is decided at admission too: an allowed client's
// cache hit and a blocked client's REFUSED stay off the heap.
TEST(CacheHitAllocationTest, ABlocksAclAllocatesNothing) {
  Wire reply = Wire().Header(0, kFlagQR | kFlagRD | kFlagRA, 1, 1).Question("www.example.com", kTypeA)
                   .A("www.example.com", 30, {192, 0, 2, 80});
  auto stored = std::make_shared<const StoredReply>(*StoredReply::FromMessage(reply, TtlPolicy{}));
  PacketCache cache(1000);
  QueryView warm;
  std::vector<uint8_t> first = MakeQuery("www.example.com", kTypeA);
  ASSERT_EQ(ParseQuery(first, warm), QueryCheck::kOk);
  cache.Insert(CacheKey::For(warm), stored, 0);

  std::vector<Block> blocks(2);
  blocks[0].zones = {DnsName()};
  blocks[1].zones = {*DnsName::FromText("example.com")};
  blocks[1].acl = ZoneAcl({AclRule{.zones = {*DnsName::FromText("example.com")},
                                   .policies = {AclPolicy{.action = AclAction::kAllow, .nets = {*Cidr::Parse("10.0.0.0/8")}},
                                                AclPolicy{.action = AclAction::kBlock}}}});
  const Program program(std::move(blocks), std::nullopt, nullptr);
  const std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232});
  const IpAddress allowed = IpAddress::FromV4({10, 1, 2, 3}), blocked = IpAddress::FromV4({192, 0, 2, 9});
  std::vector<uint8_t> out(4096);
  Admitted hit, refused;
  QueryView view;

  size_t allocations;
  {
    CountAllocations count;
    for (int round = 0; round < 5; ++round) {
      hit = AdmitQuery(query, allowed, {.program = &program, .cache = &cache, .now = 1000}, view, out);
      refused = AdmitQuery(query, blocked, {.program = &program, .cache = &cache, .now = 1000}, view, out);
    }
    allocations = count.Stop();
  }
  EXPECT_EQ(allocations, 0u) << "a block's acl must not touch the heap";
  EXPECT_EQ(hit.verdict, Verdict::kReply);
  EXPECT_FALSE(hit.acl_refused);
  EXPECT_TRUE(refused.acl_refused);
  EXPECT_EQ(cache.hits(), 5u);
}

// Views choose the block at admission, before the cache: evaluating a view's
// expressions and looking up the chosen block's entry stay off the heap.
TEST(CacheHitAllocationTest, ChoosingABlockByViewAllocatesNothing) {
  std::vector<Block> blocks(2);
  blocks[0].zones = {DnsName()};
  ViewExpression::Error error;
  std::optional<ViewExpression> inside =
      ViewExpression::Compile("incidr(client_ip(), '10.0.0.0/8') && name() matches '^www[.]' && type() == 'A'", error);
  ASSERT_TRUE(inside) << error.reason;
  blocks[0].view = BlockView{.name = "inside", .exprs = {std::move(*inside)}};
  blocks[1].zones = {DnsName()};  // everyone else
  const Program program(std::move(blocks), std::nullopt, nullptr);
  ASSERT_TRUE(program.has_views());

  Wire reply = Wire().Header(0, kFlagQR | kFlagRD | kFlagRA, 1, 1).Question("www.example.com", kTypeA)
                   .A("www.example.com", 30, {192, 0, 2, 80});
  PacketCache cache(1000);
  QueryView warm;
  const std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232});
  ASSERT_EQ(ParseQuery(query, warm), QueryCheck::kOk);
  warm.route = program.RouteOf(&program.blocks()[0]);
  cache.Insert(CacheKey::For(warm), std::make_shared<const StoredReply>(*StoredReply::FromMessage(reply, TtlPolicy{})),
               0);

  const IpAddress inside_client = IpAddress::FromV4({10, 1, 2, 3}), outside = IpAddress::FromV4({192, 0, 2, 9});
  std::vector<uint8_t> out(4096);
  Admitted hit, miss;
  QueryView view;
  size_t allocations;
  {
    CountAllocations count;
    for (int round = 0; round < 5; ++round) {
      hit = AdmitQuery(query, inside_client, {.program = &program, .cache = &cache, .now = 1000}, view, out);
      miss = AdmitQuery(query, outside, {.program = &program, .cache = &cache, .now = 1000}, view, out);
    }
    allocations = count.Stop();
  }
  EXPECT_EQ(allocations, 0u) << "a view's expressions must not touch the heap";
  EXPECT_EQ(hit.verdict, Verdict::kReply) << "the inside view's entry";
  EXPECT_EQ(miss.verdict, Verdict::kResolve) << "another view: another cache entry";
  EXPECT_EQ(cache.hits(), 5u);
}

}  // namespace
}  // namespace meshdns
