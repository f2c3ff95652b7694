#include "dnscore/cluster_rewrite.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dnscore/message.h"
#include "dnscore/wire.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

DnsName N(const char* text) { return *DnsName::FromText(text); }

ClusterRewrite Cluster2() { return ClusterRewrite(N("svc.cluster.local"), N("cluster2.svc.cluster.local")); }

TEST(ClusterRewriteTest, StripRemovesTheClusterLabel) {
  const struct {
    const char* in;
    const char* want;
  } cases[] = {
      {"x.cluster2.svc.cluster.local", "x.svc.cluster.local."},
      {"web.default.cluster2.svc.cluster.local", "web.default.svc.cluster.local."},
      {"Web.Default.CLUSTER2.Svc.Cluster.Local", "Web.Default.svc.cluster.local."},  // the asked part keeps its case
  };
  for (const auto& c : cases) {
    DnsName out;
    ASSERT_TRUE(Cluster2().Strip(N(c.in), out)) << c.in;
    EXPECT_EQ(out.ToText(), c.want);
  }
}

TEST(ClusterRewriteTest, StripRefusesNamesOutsideTheClusterZone) {
  for (const char* name : {"x.cluster3.svc.cluster.local", "x.svc.cluster.local", "x.xcluster2.svc.cluster.local",
                           "example.com", "cluster2.svc.cluster.local.example.com"}) {
    DnsName out;
    EXPECT_FALSE(Cluster2().Strip(N(name), out)) << name;
  }
}

TEST(ClusterRewriteTest, RestoreAddsTheClusterLabelBack) {
  DnsName out;
  ASSERT_TRUE(Cluster2().Restore(N("pod.default.svc.cluster.local"), out));
  EXPECT_EQ(out.ToText(), "pod.default.cluster2.svc.cluster.local.");
  EXPECT_FALSE(Cluster2().Restore(N("example.com"), out));
  EXPECT_FALSE(Cluster2().Restore(N("cluster.local"), out));
  // 252 bytes of wire; the 9 bytes of "cluster2" would take it past 255.
  const std::string label63(63, 'a');
  const std::string longest = label63 + "." + label63 + "." + label63 + "." + std::string(40, 'b') + ".svc.cluster.local";
  ASSERT_EQ(N(longest.c_str()).WireSize(), 252u);
  EXPECT_FALSE(Cluster2().Restore(N(longest.c_str()), out));
}

// The reply a cluster's kube-dns gives for the stripped question.
std::vector<uint8_t> UpstreamReply() {
  PktPtr pkt = NewReply(N("web.default.svc.cluster.local"), kTypeA, kClassIN, kFlagAA | kFlagRD | kFlagRA, kNoError);
  auto add = [&](ldns_pkt_section section, const char* text) {
    absl::StatusOr<RrPtr> rr = ParseRecord(text);
    ASSERT_TRUE(rr.ok()) << rr.status();
    AppendRecord(pkt.get(), section, rr->get());
  };
  add(LDNS_SECTION_ANSWER, "web.default.svc.cluster.local. 5 IN CNAME pod.default.svc.cluster.local.");
  add(LDNS_SECTION_ANSWER, "pod.default.svc.cluster.local. 5 IN A 10.0.0.1");
  add(LDNS_SECTION_ANSWER, "_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 pod.default.svc.cluster.local.");
  add(LDNS_SECTION_ANSWER, "web.default.svc.cluster.local. 5 IN MX 10 mail.default.svc.cluster.local.");
  add(LDNS_SECTION_ANSWER, "1.0.0.10.in-addr.arpa. 5 IN PTR pod.default.svc.cluster.local.");
  add(LDNS_SECTION_ANSWER, "alias.default.svc.cluster.local. 5 IN CNAME www.example.com.");
  add(LDNS_SECTION_AUTHORITY, "svc.cluster.local. 5 IN NS ns.dns.svc.cluster.local.");
  add(LDNS_SECTION_AUTHORITY,
      "cluster.local. 5 IN SOA ns.dns.svc.cluster.local. hostmaster.svc.cluster.local. 1 7200 1800 86400 5");
  add(LDNS_SECTION_ADDITIONAL, "mail.default.svc.cluster.local. 5 IN A 10.0.0.2");
  return *EncodeMessage(pkt.get());
}

std::string RdataName(const ldns_rr* rr, size_t field) {
  DnsName name;
  EXPECT_TRUE(RdfToName(ldns_rr_rdf(rr, field), name));
  return name.Lowered().ToText();
}

std::string Owner(const ldns_rr* rr) {
  DnsName name;
  EXPECT_TRUE(RdfToName(ldns_rr_owner(rr), name));
  return name.Lowered().ToText();
}

TEST(ClusterRewriteTest, RestoreReplyRenamesOwnersAndTargetsUnderTheServiceZone) {
  RenameScratch scratch;
  const DnsName client = N("Web.Default.Cluster2.SVC.cluster.local");
  absl::StatusOr<std::vector<uint8_t>> restored = Cluster2().RestoreReply(UpstreamReply(), client, scratch);
  ASSERT_TRUE(restored.ok()) << restored.status();
  // The stored reply takes this vector over and may cache it for its TTL.
  EXPECT_EQ(restored->capacity(), restored->size()) << "no spare capacity";
  absl::StatusOr<PktPtr> pkt = ParseMessage(*restored);
  ASSERT_TRUE(pkt.ok());
  ldns_rr_list* an = ldns_pkt_answer(pkt->get());
  ldns_rr_list* ns = ldns_pkt_authority(pkt->get());
  ldns_rr_list* ar = ldns_pkt_additional(pkt->get());
  ASSERT_EQ(ldns_rr_list_rr_count(an), 6u);
  ASSERT_EQ(ldns_rr_list_rr_count(ns), 2u);
  ASSERT_EQ(ldns_rr_list_rr_count(ar), 1u);

  // CNAME: owner and target.
  EXPECT_EQ(Owner(ldns_rr_list_rr(an, 0)), "web.default.cluster2.svc.cluster.local.");
  EXPECT_EQ(RdataName(ldns_rr_list_rr(an, 0), 0), "pod.default.cluster2.svc.cluster.local.");
  // A: owner only.
  EXPECT_EQ(Owner(ldns_rr_list_rr(an, 1)), "pod.default.cluster2.svc.cluster.local.");
  // SRV: the target is the fourth field.
  EXPECT_EQ(Owner(ldns_rr_list_rr(an, 2)), "_http._tcp.web.default.cluster2.svc.cluster.local.");
  EXPECT_EQ(RdataName(ldns_rr_list_rr(an, 2), 3), "pod.default.cluster2.svc.cluster.local.");
  // MX: the exchange is the second field.
  EXPECT_EQ(RdataName(ldns_rr_list_rr(an, 3), 1), "mail.default.cluster2.svc.cluster.local.");
  // PTR: an owner outside svc.cluster.local stays, the target moves.
  EXPECT_EQ(Owner(ldns_rr_list_rr(an, 4)), "1.0.0.10.in-addr.arpa.");
  EXPECT_EQ(RdataName(ldns_rr_list_rr(an, 4), 0), "pod.default.cluster2.svc.cluster.local.");
  // A CNAME out of the cluster keeps its target.
  EXPECT_EQ(Owner(ldns_rr_list_rr(an, 5)), "alias.default.cluster2.svc.cluster.local.");
  EXPECT_EQ(RdataName(ldns_rr_list_rr(an, 5), 0), "www.example.com.");
  // NS: the zone apex svc.cluster.local is itself under svc.cluster.local.
  EXPECT_EQ(Owner(ldns_rr_list_rr(ns, 0)), "cluster2.svc.cluster.local.");
  EXPECT_EQ(RdataName(ldns_rr_list_rr(ns, 0), 0), "ns.dns.cluster2.svc.cluster.local.");
  // SOA: owner cluster.local is outside; MNAME moves, RNAME (a mailbox) does not.
  EXPECT_EQ(Owner(ldns_rr_list_rr(ns, 1)), "cluster.local.");
  EXPECT_EQ(RdataName(ldns_rr_list_rr(ns, 1), 0), "ns.dns.cluster2.svc.cluster.local.");
  EXPECT_EQ(RdataName(ldns_rr_list_rr(ns, 1), 1), "hostmaster.svc.cluster.local.");
  // Additional section too.
  EXPECT_EQ(Owner(ldns_rr_list_rr(ar, 0)), "mail.default.cluster2.svc.cluster.local.");
  // Header flags and rcode survive.
  EXPECT_TRUE(ldns_pkt_aa(pkt->get()));
  EXPECT_TRUE(ldns_pkt_ra(pkt->get()));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt->get()), kNoError);
}

TEST(ClusterRewriteTest, RestoreReplyPutsTheClientsQuestionInTheClientsCase) {
  RenameScratch scratch;
  const DnsName client = N("Web.Default.Cluster2.SVC.cluster.local");
  absl::StatusOr<std::vector<uint8_t>> restored = Cluster2().RestoreReply(UpstreamReply(), client, scratch);
  ASSERT_TRUE(restored.ok());
  ASSERT_GT(restored->size(), kHeaderSize + client.WireSize() + 4);
  EXPECT_EQ(ReadU16(&(*restored)[4]), 1);
  // The question is the first name, never compressed: compare the raw bytes.
  EXPECT_TRUE(std::equal(client.Wire().begin(), client.Wire().end(), restored->begin() + kHeaderSize));
  EXPECT_EQ(ReadU16(&(*restored)[kHeaderSize + client.WireSize()]), kTypeA);
}

TEST(ClusterRewriteTest, RestoreReplyRejectsGarbage) {
  RenameScratch scratch;
  std::vector<uint8_t> garbage = {0, 1, 0x81, 0x80, 0, 1, 0, 1};
  EXPECT_FALSE(Cluster2().RestoreReply(garbage, N("x.cluster2.svc.cluster.local"), scratch).ok());
}

// The ldns field index of the name contract rule 1 renames in each type's
// RDATA (CNAME/DNAME/NS/PTR target, MX exchange, SRV target, SOA MNAME), or -1.
int RenamedRdataField(uint16_t type) {
  switch (type) {
    case kTypeCNAME: case kTypeDNAME: case kTypeNS: case kTypePTR: case kTypeSOA: return 0;
    case kTypeMX: return 1;
    case kTypeSRV: return 3;
    case kTypeNAPTR: return 5;  // the replacement, a value name in CoreDNS's rewrite too
    default: return -1;
  }
}

// The same renaming done the slow, obvious way with ldns (parse, rename every
// owner and the renamed RDATA field, print): the wire-level rewrite must
// give the same records.
std::vector<std::string> OracleRecords(const ClusterRewrite& rewrite, std::span<const uint8_t> reply) {
  PktPtr pkt = *ParseMessage(reply);
  std::vector<std::string> out;
  for (ldns_rr_list* list : {ldns_pkt_answer(pkt.get()), ldns_pkt_authority(pkt.get()), ldns_pkt_additional(pkt.get())}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(list, i);
      DnsName name, moved;
      if (RdfToName(ldns_rr_owner(rr), name) && rewrite.Restore(name, moved)) {
        ldns_rdf_deep_free(ldns_rr_owner(rr));
        ldns_rr_set_owner(rr, NameToRdf(moved).release());
      }
      const int field = RenamedRdataField(ldns_rr_get_type(rr));
      if (field >= 0 && static_cast<size_t>(field) < ldns_rr_rd_count(rr) &&
          RdfToName(ldns_rr_rdf(rr, field), name) && rewrite.Restore(name, moved)) {
        ldns_rdf_deep_free(ldns_rr_set_rdf(rr, NameToRdf(moved).release(), field));
      }
      char* text = ldns_rr2str(rr);
      out.emplace_back(text);
      free(text);
    }
  }
  return out;
}

std::vector<std::string> Records(std::span<const uint8_t> reply) {
  PktPtr pkt = *ParseMessage(reply);
  std::vector<std::string> out;
  for (ldns_rr_list* list : {ldns_pkt_answer(pkt.get()), ldns_pkt_authority(pkt.get()), ldns_pkt_additional(pkt.get())}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
      out.emplace_back(text);
      free(text);
    }
  }
  return out;
}

TEST(ClusterRewriteTest, RestoreReplyMatchesRenamingWithLdns) {
  RenameScratch scratch;
  const DnsName client = N("web.default.cluster2.svc.cluster.local");
  PktPtr pkt = NewReply(N("web.default.svc.cluster.local"), kTypeANY, kClassIN, kFlagAA | kFlagRA, kNoError);
  for (const char* text : {
           "web.default.svc.cluster.local. 5 IN CNAME pod.default.svc.cluster.local.",
           "pod.default.svc.cluster.local. 5 IN A 10.0.0.1",
           "pod.default.svc.cluster.local. 5 IN AAAA fd00::1",
           "web.default.svc.cluster.local. 5 IN TXT \"v=1\" \"svc.cluster.local\"",
           "_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 pod.default.svc.cluster.local.",
           "web.default.svc.cluster.local. 5 IN MX 10 mail.default.svc.cluster.local.",
           "web.default.svc.cluster.local. 5 IN NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.default.svc.cluster.local.",
           "web.default.svc.cluster.local. 5 IN DNAME other.svc.cluster.local.",
           "web.default.svc.cluster.local. 5 IN RP mbox.svc.cluster.local. txt.svc.cluster.local.",
           "web.default.svc.cluster.local. 5 IN TYPE65280 \\# 3 010203",
           "svc.cluster.local. 5 IN NS ns.dns.svc.cluster.local.",
           "cluster.local. 5 IN SOA ns.dns.svc.cluster.local. hostmaster.svc.cluster.local. 1 7200 1800 86400 5",
       }) {
    AppendRecord(pkt.get(), LDNS_SECTION_ANSWER, ParseRecord(text)->get());
  }
  const std::vector<uint8_t> reply = *EncodeMessage(pkt.get());  // ldns compresses names, RDATA too
  absl::StatusOr<std::vector<uint8_t>> restored = Cluster2().RestoreReply(reply, client, scratch);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(Records(*restored), OracleRecords(Cluster2(), reply));
  EXPECT_TRUE(std::equal(restored->begin() + 2, restored->begin() + kHeaderSize, reply.begin() + 2))
      << "flags and counts unchanged";
}

// Compression pointers inside RDATA (legal for CNAME, MX, NS, SOA, PTR)
// point into the old message; they must be followed, never copied.
TEST(ClusterRewriteTest, RestoreReplyFollowsPointersInRdata) {
  RenameScratch scratch;
  using testing::Wire;
  const uint16_t question = kHeaderSize;                     // web.default.svc.cluster.local
  const uint16_t svc = kHeaderSize + 4 + 8;                  // svc.cluster.local inside it
  Wire w = Wire().Header(1, kFlagQR | kFlagAA, 1, 2).Question("web.default.svc.cluster.local", kTypeMX);
  w.Pointer(question).RrBody(kTypeCNAME, 5, Wire().U8(3).Bytes({'p', 'o', 'd'}).Pointer(svc).bytes());
  w.Pointer(question).RrBody(kTypeMX, 5, Wire().U16(10).U8(4).Bytes({'m', 'a', 'i', 'l'}).Pointer(svc).bytes());
  absl::StatusOr<std::vector<uint8_t>> restored = Cluster2().RestoreReply(w, N("web.default.cluster2.svc.cluster.local"),
                                                                          scratch);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const std::vector<std::string> records = Records(*restored);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], "web.default.cluster2.svc.cluster.local.\t5\tIN\tCNAME\tpod.cluster2.svc.cluster.local.\n");
  EXPECT_EQ(records[1], "web.default.cluster2.svc.cluster.local.\t5\tIN\tMX\t10 mail.cluster2.svc.cluster.local.\n");
}

TEST(ClusterRewriteTest, RestoreReplyRejectsRecordsThatOverrunTheirRdata) {
  RenameScratch scratch;
  using testing::Wire;
  const DnsName client = N("web.default.cluster2.svc.cluster.local");
  // A CNAME whose RDLENGTH stops inside the target name.
  Wire short_name = Wire().Header(1, kFlagQR, 1, 1).Question("web.default.svc.cluster.local", kTypeA);
  short_name.Name("web.default.svc.cluster.local").U16(kTypeCNAME).U16(kClassIN).U32(5).U16(3).Bytes({3, 'p', 'o'});
  short_name.Bytes({'d', 0});
  EXPECT_FALSE(Cluster2().RestoreReply(short_name, client, scratch).ok());
  // An MX too short for its preference.
  Wire short_mx = Wire().Header(1, kFlagQR, 1, 1).Question("web.default.svc.cluster.local", kTypeMX);
  short_mx.Name("web.default.svc.cluster.local").RrBody(kTypeMX, 5, Wire().U8(0).bytes());
  EXPECT_FALSE(Cluster2().RestoreReply(short_mx, client, scratch).ok());
  // A NAPTR whose strings run past its end.
  Wire naptr = Wire().Header(1, kFlagQR, 1, 1).Question("web.default.svc.cluster.local", 35);
  naptr.Name("web.default.svc.cluster.local").RrBody(35, 5, Wire().U16(1).U16(2).U8(40).Bytes({'S'}).bytes());
  EXPECT_FALSE(Cluster2().RestoreReply(naptr, client, scratch).ok());
  // More records announced than present.
  Wire missing = Wire().Header(1, kFlagQR, 1, 2).Question("web.default.svc.cluster.local", kTypeA);
  missing.A("web.default.svc.cluster.local", 5);
  EXPECT_FALSE(Cluster2().RestoreReply(missing, client, scratch).ok());
}

}  // namespace
}  // namespace meshdns
