#include "dnscore/clusterset_zone.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dnscore/stored_reply.h"
#include "dnscore/wire.h"
#include "tests/dnscore/message_text.h"

namespace meshdns {
namespace {

using testing::RecordText;

DnsName N(const char* text) { return *DnsName::FromText(text); }

// The contract's section 3 template.
std::shared_ptr<const Template> ContractTemplate() {
  return *Template::Compile(
      R"((?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<service>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$)",
      {"{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.service }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local"});
}

class ClustersetZoneTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kNegativeTtl = 5;
  Mesh mesh_{N("cluster.local"), N("clusterset.local"), {"cluster1", "cluster2", "cluster3"}, 0};
  ClustersetZone zone_{mesh_, {ContractTemplate()}, kNegativeTtl};

  ClustersetOutcome Ask(const char* name, uint16_t qtype, uint16_t qclass = kClassIN) {
    absl::StatusOr<ClustersetOutcome> out = zone_.Answer(N(name), qtype, qclass);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *std::move(out) : ClustersetOutcome{};
  }

  // NXDOMAIN (or NODATA) made negative-cacheable by the zone's SOA.
  void ExpectDenialWithSoa(const ClustersetOutcome& out, uint8_t rcode, const char* why) {
    EXPECT_EQ(out.rcode, rcode) << why;
    EXPECT_TRUE(out.answer.empty()) << why;
    EXPECT_FALSE(out.chase.has_value()) << why;
    ASSERT_EQ(out.authority.size(), 1u) << why;
    const ldns_rr* soa = out.authority[0].get();
    EXPECT_EQ(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA) << why;
    DnsName owner;
    ASSERT_TRUE(RdfToName(ldns_rr_owner(soa), owner));
    EXPECT_EQ(owner.ToText(), "clusterset.local.") << why;
    EXPECT_EQ(ldns_rr_ttl(soa), kNegativeTtl) << why;
    EXPECT_EQ(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), kNegativeTtl) << why << ": SOA MINIMUM";
  }
};

TEST_F(ClustersetZoneTest, TemplateAnswerIsACnameWhoseTargetIsChased) {
  ClustersetOutcome out = Ask("Web.Cluster2.Nginx.Default.svc.ClusterSet.local", kTypeA);
  EXPECT_EQ(out.rcode, kNoError);
  EXPECT_TRUE(out.authority.empty());
  ASSERT_EQ(out.answer.size(), 1u);
  const ldns_rr* cname = out.answer[0].get();
  EXPECT_EQ(ldns_rr_get_type(cname), LDNS_RR_TYPE_CNAME);
  EXPECT_EQ(ldns_rr_ttl(cname), 60u);
  DnsName owner, target;
  ASSERT_TRUE(RdfToName(ldns_rr_owner(cname), owner));
  ASSERT_TRUE(RdfToName(ldns_rr_rdf(cname, 0), target));
  EXPECT_TRUE(owner.Equals(N("web.cluster2.nginx.default.svc.clusterset.local")));
  EXPECT_EQ(target.ToText(), "web.nginx.default.cluster2.svc.cluster.local.");
  ASSERT_TRUE(out.chase.has_value());
  EXPECT_TRUE(out.chase->Equals(target));
}

TEST_F(ClustersetZoneTest, EveryTypeButCnameAndAnyIsChased) {
  for (uint16_t qtype : {kTypeA, kTypeAAAA, kTypeTXT, kTypeSRV, kTypeMX}) {
    EXPECT_TRUE(Ask("web.cluster1.nginx.default.svc.clusterset.local", qtype).chase.has_value()) << qtype;
  }
  for (uint16_t qtype : {kTypeCNAME, kTypeANY}) {
    ClustersetOutcome out = Ask("web.cluster1.nginx.default.svc.clusterset.local", qtype);
    EXPECT_EQ(out.answer.size(), 1u) << qtype;
    EXPECT_FALSE(out.chase.has_value()) << qtype;
  }
}

TEST_F(ClustersetZoneTest, TemplateNamingAClusterOutsideTheMeshGivesNxDomain) {
  // Rule 3: it could only be sent to a peer that does not exist.
  ExpectDenialWithSoa(Ask("web.cluster9.nginx.default.svc.clusterset.local", kTypeA), kNxDomain, "unknown cluster");
}

TEST_F(ClustersetZoneTest, DnsVersionIsTxt100) {
  ClustersetOutcome out = Ask("DNS-Version.clusterset.local", kTypeTXT);
  EXPECT_EQ(out.rcode, kNoError);
  ASSERT_EQ(out.answer.size(), 1u);
  const ldns_rr* txt = out.answer[0].get();
  EXPECT_EQ(ldns_rr_get_type(txt), LDNS_RR_TYPE_TXT);
  char* text = ldns_rdf2str(ldns_rr_rdf(txt, 0));
  EXPECT_STREQ(text, "\"1.0.0\"");
  free(text);
  EXPECT_FALSE(out.chase.has_value());
  // The name exists, so other types are NODATA, not NXDOMAIN.
  ExpectDenialWithSoa(Ask("dns-version.clusterset.local", kTypeA), kNoError, "dns-version A");
}

TEST_F(ClustersetZoneTest, TheApexAnswersItsSoaAndNs) {
  ClustersetOutcome soa = Ask("ClusterSet.Local", kTypeSOA);
  EXPECT_EQ(soa.rcode, kNoError);
  EXPECT_TRUE(soa.matched);
  EXPECT_TRUE(soa.authority.empty());
  ASSERT_EQ(soa.answer.size(), 1u);
  EXPECT_EQ(RecordText(soa.answer[0].get()),
            "clusterset.local. 5 IN SOA ns.dns.clusterset.local. hostmaster.clusterset.local. 1 7200 1800 86400 5");

  ClustersetOutcome ns = Ask("clusterset.local", kTypeNS);
  EXPECT_EQ(ns.rcode, kNoError);
  EXPECT_TRUE(ns.authority.empty());
  ASSERT_EQ(ns.answer.size(), 1u);
  EXPECT_EQ(RecordText(ns.answer[0].get()), "clusterset.local. 5 IN NS ns.dns.clusterset.local.");

  ClustersetOutcome any = Ask("clusterset.local", kTypeANY);
  ASSERT_EQ(any.answer.size(), 2u);
  EXPECT_EQ(ldns_rr_get_type(any.answer[0].get()), LDNS_RR_TYPE_SOA);
  EXPECT_EQ(ldns_rr_get_type(any.answer[1].get()), LDNS_RR_TYPE_NS);
}

TEST_F(ClustersetZoneTest, OtherTypesAtTheApexAreNoData) {
  for (uint16_t qtype : {kTypeA, kTypeAAAA, kTypeTXT, kTypeSRV}) {
    ExpectDenialWithSoa(Ask("clusterset.local", qtype), kNoError, TypeMnemonic(qtype).c_str());
  }
}

// RFC 8020: NXDOMAIN would deny every name below these.
TEST_F(ClustersetZoneTest, NamesWithDescendantsOrNamedByTheNsAreNoData) {
  for (const char* name : {"svc.clusterset.local", "SVC.clusterset.local", "dns.clusterset.local",
                           "ns.dns.clusterset.local"}) {
    for (uint16_t qtype : {kTypeA, kTypeAAAA, kTypeTXT}) {
      ClustersetOutcome out = Ask(name, qtype);
      EXPECT_TRUE(out.matched) << name;
      ExpectDenialWithSoa(out, kNoError, name);
    }
  }
}

TEST_F(ClustersetZoneTest, NamespacesAndServicesAreLeftToTheClusters) {
  // The zone cannot know them; the pipeline asks the clusters, and without
  // them the answer stands as NXDOMAIN.
  for (const char* name : {"default.svc.clusterset.local", "nginx.default.svc.clusterset.local"}) {
    ClustersetOutcome out = Ask(name, kTypeA);
    EXPECT_FALSE(out.matched) << name;
    ExpectDenialWithSoa(out, kNxDomain, name);
  }
}

TEST_F(ClustersetZoneTest, EveryOtherNameIsNxDomainWithSoa) {
  for (const char* name : {"foo.clusterset.local", "a.ns.dns.clusterset.local",
                           "cluster2.nginx.default.svc.clusterset.local",    // <cluster>.<svc>.<ns>
                           "a.b.web.cluster2.nginx.default.svc.clusterset.local.x.clusterset.local"}) {
    ExpectDenialWithSoa(Ask(name, kTypeA), kNxDomain, name);
  }
  // A template match in another class is no answer either.
  ExpectDenialWithSoa(Ask("web.cluster2.nginx.default.svc.clusterset.local", kTypeA, 3 /* CH */), kNxDomain, "CH");
}

TEST_F(ClustersetZoneTest, NxDomainReplyIsNegativeCacheable) {
  ClustersetOutcome out = Ask("foo.clusterset.local", kTypeA);
  absl::StatusOr<std::vector<uint8_t>> wire =
      BuildAuthoritativeReply(N("Foo.clusterset.local"), kTypeA, kClassIN, out.rcode, out.answer, out.authority);
  ASSERT_TRUE(wire.ok()) << wire.status();
  EXPECT_TRUE(ReadU16(&(*wire)[2]) & kFlagAA);
  absl::StatusOr<StoredReply> stored = StoredReply::FromMessage(*wire, TtlPolicy{.min_ttl = 1, .max_ttl = 30, .denial_ttl = 30});
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->rcode(), kNxDomain);
  EXPECT_TRUE(stored->cacheable);
  EXPECT_EQ(stored->ttl, kNegativeTtl);
}

TEST(ClustersetZoneTemplatesTest, TemplatesWithoutAClusterGroupAnswerForAnyName) {
  Mesh mesh(N("cluster.local"), N("clusterset.local"), {"cluster1"}, 0);
  auto t = *Template::Compile(R"(^(?P<host>[a-z]+)\.static\.clusterset\.local\.$)",
                              {"{{ .Name }} 30 IN A 192.0.2.10"});
  ClustersetZone zone(mesh, {t}, 5);
  absl::StatusOr<ClustersetOutcome> out = zone.Answer(N("db.static.clusterset.local"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rcode, kNoError);
  ASSERT_EQ(out->answer.size(), 1u);
  EXPECT_EQ(ldns_rr_get_type(out->answer[0].get()), LDNS_RR_TYPE_A);
  EXPECT_FALSE(out->chase.has_value()) << "nothing to chase after an A record";
}

}  // namespace
}  // namespace meshdns
