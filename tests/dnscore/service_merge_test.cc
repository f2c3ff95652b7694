#include "dnscore/service_merge.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "dnscore/clusterset_zone.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

DnsName N(const char* text) { return *DnsName::FromText(text); }

// A reply from one cluster, as rule 1 leaves it: names in that cluster's zone.
std::vector<uint8_t> Reply(const DnsName& qname, uint16_t qtype, uint8_t rcode, const std::vector<std::string>& rrs) {
  std::vector<RrPtr> answer;
  for (const std::string& text : rrs) answer.push_back(*ParseRecord(text));
  return *BuildAuthoritativeReply(qname, qtype, kClassIN, rcode, answer, {});
}

struct Merged {
  uint8_t rcode = 0;
  std::set<std::string> rdata;  // answer RDATA as text
  std::set<std::string> owners;
  std::set<uint32_t> ttls;
  size_t authority_soa = 0;
};

class ServiceMergeTest : public ::testing::Test {
 protected:
  Mesh mesh_{N("cluster.local"), N("clusterset.local"), {"c1", "c2", "c3"}, /*local=*/0};
  ClustersetZone zone_{mesh_, {}, 5};
  DnsName qname_ = N("kafka.strimzi.svc.clusterset.local");
  ServiceName name_ = *ParseServiceName(mesh_, qname_);

  // Cluster c's reply for kafka.strimzi.<c>.svc.cluster.local with these A addresses.
  ClusterPart A(size_t c, const std::vector<std::string>& addresses, uint32_t ttl = 5) {
    const std::string owner = name_.ClusterName(mesh_, c).ToText();
    std::vector<std::string> rrs;
    for (const auto& a : addresses) rrs.push_back(owner + " " + std::to_string(ttl) + " IN A " + a);
    return {c, Reply(name_.ClusterName(mesh_, c), kTypeA, kNoError, rrs)};
  }
  ClusterPart Nx(size_t c) { return {c, Reply(name_.ClusterName(mesh_, c), kTypeA, kNxDomain, {})}; }

  Merged Merge(const std::vector<ClusterPart>& parts, Affinity affinity, uint16_t qtype = kTypeA,
               const DnsName* qname = nullptr, const ServiceName* name = nullptr) {
    absl::StatusOr<std::vector<uint8_t>> wire =
        MergeServiceAnswers(mesh_, name ? *name : name_, qname ? *qname : qname_, qtype, parts,
                            {.affinity = affinity, .local = 0, .ttl_cap = 5}, zone_.Soa().get());
    EXPECT_TRUE(wire.ok()) << wire.status();
    Merged m;
    if (!wire.ok()) return m;
    PktPtr pkt = *ParseMessage(*wire);
    m.rcode = ldns_pkt_get_rcode(pkt.get());
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(answer, i);
      char* rd = ldns_rdf2str(ldns_rr_rdf(rr, ldns_rr_rd_count(rr) - 1));
      m.rdata.insert(rd);
      free(rd);
      DnsName owner;
      RdfToName(ldns_rr_owner(rr), owner);
      m.owners.insert(owner.ToText());
      m.ttls.insert(ldns_rr_ttl(rr));
    }
    ldns_rr_list* authority = ldns_pkt_authority(pkt.get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(authority); ++i) {
      m.authority_soa += ldns_rr_get_type(ldns_rr_list_rr(authority, i)) == LDNS_RR_TYPE_SOA;
    }
    return m;
  }
};

TEST_F(ServiceMergeTest, RecognisesServiceAndSrvNamesOnly) {
  EXPECT_TRUE(ParseServiceName(mesh_, N("kafka.strimzi.svc.clusterset.local")));
  std::optional<ServiceName> srv = ParseServiceName(mesh_, N("_kafka._tcp.kafka.strimzi.svc.clusterset.local"));
  ASSERT_TRUE(srv);
  EXPECT_EQ(srv->service, "kafka");
  EXPECT_EQ(srv->ClusterName(mesh_, 1).ToText(), "_kafka._tcp.kafka.strimzi.c2.svc.cluster.local.");
  // Per-host names belong to the template; <cluster>.<svc>.<ns> must not exist (KEP-1645).
  EXPECT_FALSE(ParseServiceName(mesh_, N("pod-0.c2.kafka.strimzi.svc.clusterset.local")));
  EXPECT_FALSE(ParseServiceName(mesh_, N("c2.kafka.strimzi.svc.clusterset.local")));
  EXPECT_FALSE(ParseServiceName(mesh_, N("kafka.strimzi.svc.cluster.local")));
  EXPECT_FALSE(ParseServiceName(mesh_, N("kafka.strimzi.pod.clusterset.local")));
}

TEST_F(ServiceMergeTest, ANamespaceIsAskedAsItsOwnName) {
  std::optional<ServiceName> ns = ParseServiceName(mesh_, N("Strimzi.svc.clusterset.local"));
  ASSERT_TRUE(ns);
  EXPECT_TRUE(ns->IsNamespace());
  EXPECT_EQ(ns->ClusterName(mesh_, 1).ToText(), "Strimzi.c2.svc.cluster.local.");
  EXPECT_FALSE(name_.IsNamespace());
  EXPECT_FALSE(ParseServiceName(mesh_, N("svc.clusterset.local")));
  EXPECT_FALSE(ParseServiceName(mesh_, N("strimzi.pod.clusterset.local")));
}

TEST_F(ServiceMergeTest, ANamespaceSomeClusterKnowsIsNoDataWhateverItHolds) {
  const DnsName qname = N("strimzi.svc.clusterset.local");
  const ServiceName ns = *ParseServiceName(mesh_, qname);
  // A resolver with an address at the namespace's name: not a Kubernetes
  // record, and not the namespace's to give.
  const std::string owner = ns.ClusterName(mesh_, 1).ToText();
  ClusterPart odd{1, Reply(ns.ClusterName(mesh_, 1), kTypeA, kNoError, {owner + " 5 IN A 10.2.0.9"})};
  ClusterPart unknown{0, Reply(ns.ClusterName(mesh_, 0), kTypeA, kNxDomain, {})};
  Merged m = Merge({unknown, odd}, Affinity::kAll, kTypeA, &qname, &ns);
  EXPECT_EQ(m.rcode, kNoError);
  EXPECT_TRUE(m.rdata.empty());
  EXPECT_EQ(m.authority_soa, 1u);
  EXPECT_EQ(Merge({unknown}, Affinity::kAll, kTypeA, &qname, &ns).rcode, kNxDomain);
}

TEST_F(ServiceMergeTest, AllIsTheUnionWithOneOwnerAndOneCappedTtl) {
  Merged m = Merge({A(0, {"10.1.0.1", "10.1.0.2"}, 30), A(1, {"10.2.0.1"}, 3), A(2, {"10.1.0.1"}, 30)},
                   Affinity::kAll);
  EXPECT_EQ(m.rcode, kNoError);
  EXPECT_EQ(m.rdata, (std::set<std::string>{"10.1.0.1", "10.1.0.2", "10.2.0.1"})) << "duplicates removed";
  EXPECT_EQ(m.owners, std::set<std::string>{"kafka.strimzi.svc.clusterset.local."});
  EXPECT_EQ(m.ttls, std::set<uint32_t>{3}) << "the smallest TTL of the parts, under the cap";
  EXPECT_EQ(Merge({A(0, {"10.1.0.1"}, 300)}, Affinity::kAll).ttls, std::set<uint32_t>{5}) << "capped at 5";
}

TEST_F(ServiceMergeTest, LocalPrefersThisClusterElseTheOthers) {
  EXPECT_EQ(Merge({A(0, {"10.1.0.1"}), A(1, {"10.2.0.1"})}, Affinity::kLocal).rdata,
            std::set<std::string>{"10.1.0.1"});
  EXPECT_EQ(Merge({Nx(0), A(1, {"10.2.0.1"}), A(2, {"10.3.0.1"})}, Affinity::kLocal).rdata,
            (std::set<std::string>{"10.2.0.1", "10.3.0.1"}));
}

TEST_F(ServiceMergeTest, RemoteLeavesThisClusterOut) {
  EXPECT_EQ(Merge({A(0, {"10.1.0.1"}), A(1, {"10.2.0.1"})}, Affinity::kRemote).rdata,
            std::set<std::string>{"10.2.0.1"});
}

TEST_F(ServiceMergeTest, NxdomainOnlyWhenNoClusterKnowsTheName) {
  Merged nx = Merge({Nx(0), Nx(1), Nx(2)}, Affinity::kAll);
  EXPECT_EQ(nx.rcode, kNxDomain);
  EXPECT_EQ(nx.authority_soa, 1u);
  // c2 knows the name but has no AAAA: NODATA, not NXDOMAIN.
  ClusterPart knows{1, Reply(name_.ClusterName(mesh_, 1), kTypeAAAA, kNoError, {})};
  Merged nodata = Merge({Nx(0), knows}, Affinity::kAll, kTypeAAAA);
  EXPECT_EQ(nodata.rcode, kNoError);
  EXPECT_TRUE(nodata.rdata.empty());
  EXPECT_EQ(nodata.authority_soa, 1u);
}

TEST_F(ServiceMergeTest, SilentOrFailingClustersAreLeftOutNotFatal) {
  ClusterPart silent{1, std::nullopt};
  ClusterPart servfail{2, Reply(name_.ClusterName(mesh_, 2), kTypeA, kServFail, {})};
  Merged m = Merge({A(0, {"10.1.0.1"}), silent, servfail}, Affinity::kAll);
  EXPECT_EQ(m.rcode, kNoError);
  EXPECT_EQ(m.rdata, std::set<std::string>{"10.1.0.1"});
  // Nobody answered at all: an error (SERVFAIL for the client).
  EXPECT_FALSE(MergeServiceAnswers(mesh_, name_, qname_, kTypeA, std::vector<ClusterPart>{silent, servfail},
                                   {}, zone_.Soa().get())
                   .ok());
}

TEST_F(ServiceMergeTest, SrvTargetsMoveIntoTheClustersetZone) {
  const DnsName qname = N("_kafka._tcp.kafka.strimzi.svc.clusterset.local");
  const ServiceName name = *ParseServiceName(mesh_, qname);
  auto srv = [&](size_t c, const std::vector<std::string>& targets) {
    std::vector<std::string> rrs;
    for (const auto& t : targets) rrs.push_back(name.ClusterName(mesh_, c).ToText() + " 5 IN SRV 0 50 9092 " + t);
    return ClusterPart{c, Reply(name.ClusterName(mesh_, c), kTypeSRV, kNoError, rrs)};
  };
  Merged m = Merge({srv(0, {"broker-0.kafka.strimzi.c1.svc.cluster.local."}),
                    srv(1, {"broker-1.kafka.strimzi.c2.svc.cluster.local.", "kafka.strimzi.c2.svc.cluster.local."}),
                    srv(2, {"elsewhere.example."})},
                   Affinity::kAll, kTypeSRV, &qname, &name);
  EXPECT_EQ(m.rdata, (std::set<std::string>{"broker-0.c1.kafka.strimzi.svc.clusterset.local.",
                                            "broker-1.c2.kafka.strimzi.svc.clusterset.local.",
                                            "kafka.strimzi.svc.clusterset.local.", "elsewhere.example."}));
}

}  // namespace
}  // namespace meshdns
