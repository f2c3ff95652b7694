// The cache-hit path end to end (decode, ACL, cache lookup, reply patching)
// and its parts, on replies built once with ldns.
#include <benchmark/benchmark.h>

#include "dnscore/admission.h"
#include "dnscore/clusterset_zone.h"
#include "dnscore/message.h"
#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

std::vector<uint8_t> Query(const char* name, uint16_t id) {
  DnsName qname = *DnsName::FromText(name);
  PktPtr pkt(ldns_pkt_new());
  ldns_pkt_set_id(pkt.get(), id);
  ldns_pkt_set_rd(pkt.get(), true);
  ldns_rr* q = ldns_rr_new();
  ldns_rr_set_owner(q, NameToRdf(qname).release());
  ldns_rr_set_type(q, LDNS_RR_TYPE_A);
  ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(q, true);
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_QUESTION, q);
  return *EncodeMessage(pkt.get());
}

struct Fixture {
  static constexpr const char* kName = "my-cluster-broker-100.my-cluster-kafka-brokers.strimzi.cluster2.svc.cluster.local.";
  PacketCache cache{1000};
  Acl acl{{*Cidr::Parse("127.0.0.0/8")}, {}};
  std::vector<uint8_t> query = Query(kName, 7);
  IpAddress client = IpAddress::FromV4({127, 0, 0, 1});

  Fixture() {
    DnsName name = *DnsName::FromText(kName);
    std::vector<RrPtr> answer;
    answer.push_back(*ParseRecord(std::string(kName) + " 30 IN A 10.2.0.100"));
    auto wire = *BuildAuthoritativeReply(name, kTypeA, kClassIN, kNoError, answer, {});
    auto stored = std::make_shared<const StoredReply>(*StoredReply::FromMessage(wire, TtlPolicy{}));
    cache.Insert(CacheKey(name, kTypeA, kClassIN, false, false), stored, 0);
  }
};

void BM_ParseQuery(benchmark::State& state) {
  Fixture f;
  QueryView view;
  for (auto _ : state) benchmark::DoNotOptimize(ParseQuery(f.query, view));
}
BENCHMARK(BM_ParseQuery);

void BM_CacheHitAdmission(benchmark::State& state) {
  Fixture f;
  std::array<uint8_t, 65536> out;
  QueryView view;
  for (auto _ : state) {
    Admitted a = AdmitQuery(f.query, f.client, {.acl = &f.acl, .cache = &f.cache, .udp = true, .now = 1000}, view, out);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_CacheHitAdmission);

// Workers share one cache: with a thread per core the total rate should
// double, which a global lock or a shared counter on the hit path would stop.
// 1000 names, like the load harness's hit workload.
void BM_CacheHitAdmissionShared(benchmark::State& state) {
  static PacketCache* cache = nullptr;
  static std::vector<std::vector<uint8_t>>* queries = nullptr;
  if (state.thread_index() == 0) {
    cache = new PacketCache(10000);
    queries = new std::vector<std::vector<uint8_t>>();
    for (int i = 0; i < 1000; ++i) {
      const std::string text = absl::StrCat("svc-", i, ".ns-", i % 100, ".svc.cluster.local.");
      DnsName name = *DnsName::FromText(text);
      std::vector<RrPtr> answer;
      answer.push_back(*ParseRecord(text + " 30 IN A 10.2.0.1"));
      auto wire = *BuildAuthoritativeReply(name, kTypeA, kClassIN, kNoError, answer, {});
      cache->Insert(CacheKey(name, kTypeA, kClassIN, false, false),
                    std::make_shared<const StoredReply>(*StoredReply::FromMessage(wire, TtlPolicy{})), 0);
      queries->push_back(Query(text.c_str(), static_cast<uint16_t>(i)));
    }
  }
  const Acl acl{{*Cidr::Parse("127.0.0.0/8")}, {}};
  const IpAddress client = IpAddress::FromV4({127, 0, 0, 1});
  std::array<uint8_t, 4096> out;
  QueryView view;
  size_t i = static_cast<size_t>(state.thread_index()) * 500;
  for (auto _ : state) {
    Admitted a = AdmitQuery((*queries)[i % 1000], client, {.acl = &acl, .cache = cache, .udp = true, .now = 1000},
                            view, out);
    benchmark::DoNotOptimize(a);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete cache;
    delete queries;
  }
}
BENCHMARK(BM_CacheHitAdmissionShared)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace meshdns
