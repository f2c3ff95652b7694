#include "dnscore/admission.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::MakeQuery;
using testing::QueryOptions;
using testing::Wire;

IpAddress Client(uint8_t last) { return IpAddress::FromV4({10, 0, 0, last}); }
const IpAddress kOutsider = IpAddress::FromV4({203, 0, 113, 7});

// A cacheable answer for www.example.com A carrying `records` addresses.
std::shared_ptr<const StoredReply> Answer(uint16_t records = 1) {
  Wire w = Wire().Header(0, kFlagQR | kFlagRD | kFlagRA, 1, records).Question("www.example.com", kTypeA);
  for (uint16_t i = 0; i < records; ++i) w.A("www.example.com", 30, {192, 0, 2, static_cast<uint8_t>(i)});
  return std::make_shared<const StoredReply>(*StoredReply::FromMessage(w, TtlPolicy{}));
}

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() {
    QueryView view;
    std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA);
    EXPECT_EQ(ParseQuery(q, view), QueryCheck::kOk);
    cache_.Insert(CacheKey::For(view), Answer(), 0);
  }

  Admitted Admit(const std::vector<uint8_t>& query, const IpAddress& client, bool udp = true,
                 uint16_t udp_reply_size = kAdvertisedUdpSize) {
    out_.assign(4096, 0);
    Admitted a = AdmitQuery(query, client,
                            {.acl = &acl_, .cache = &cache_, .udp = udp, .udp_reply_size = udp_reply_size, .now = 1000},
                            view_, out_);
    out_.resize(a.size);
    return a;
  }
  uint8_t rcode() const { return out_[3] & 0xf; }
  uint16_t id() const { return ReadU16(&out_[0]); }

  Acl acl_{{*Cidr::Parse("10.0.0.0/8")}, {}};
  PacketCache cache_{100};
  QueryView view_;
  std::vector<uint8_t> out_;
};

TEST_F(AdmissionTest, CacheHitIsAnsweredStraightAway) {
  Admitted a = Admit(MakeQuery("WWW.Example.com", kTypeA, {.id = 0x7777}), Client(1));
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_EQ(a.size, Answer()->wire.size());
  EXPECT_EQ(id(), 0x7777);
  EXPECT_EQ(rcode(), kNoError);
  EXPECT_EQ(ReadU16(&out_[6]), 1) << "the cached answer";
  EXPECT_EQ(ReadU32(&out_[a.size - 10]), 29u) << "one second after insertion";
}

TEST_F(AdmissionTest, CacheMissNeedsResolving) {
  Admitted a = Admit(MakeQuery("www.example.org", kTypeA), Client(1));
  EXPECT_EQ(a.verdict, Verdict::kResolve);
  EXPECT_EQ(a.size, 0u);
  EXPECT_EQ(view_.qname.ToText(), "www.example.org.") << "the view is filled for the next stage";

  // Same name, different key (DO bit): also a miss.
  EXPECT_EQ(Admit(MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232, .dnssec_ok = true}), Client(1)).verdict,
            Verdict::kResolve);
}

TEST_F(AdmissionTest, WithoutACacheEverythingIsResolved) {
  std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA);
  std::vector<uint8_t> out(512);
  QueryView view;
  EXPECT_EQ(AdmitQuery(q, Client(1), {.acl = nullptr, .cache = nullptr}, view, out).verdict, Verdict::kResolve);
}

TEST_F(AdmissionTest, GarbageAndResponsesAreDropped) {
  EXPECT_EQ(Admit({1, 2, 3, 4, 5}, Client(1)).verdict, Verdict::kDrop);
  EXPECT_EQ(Admit({}, Client(1)).verdict, Verdict::kDrop);
  EXPECT_EQ(Admit(MakeQuery("www.example.com", kTypeA, {.flags = kFlagQR}), Client(1)).verdict, Verdict::kDrop);
}

TEST_F(AdmissionTest, MalformedQueriesGetFormErrOrNotImp) {
  const struct {
    std::vector<uint8_t> query;
    uint8_t rcode;
    const char* why;
  } cases[] = {
      {Wire().Header(3, kFlagRD, 0).bytes(), kFormErr, "no question"},
      {Wire().Header(3, 0, 1).Pointer(kHeaderSize).U16(kTypeA).U16(kClassIN).bytes(), kFormErr, "compression loop"},
      {MakeQuery("www.example.com", kTypeA, {.id = 3, .flags = 2 << 11}), kNotImp, "STATUS opcode"},
      {MakeQuery("example.com", kTypeAXFR, {.id = 3}), kNotImp, "zone transfer"},
  };
  for (const auto& c : cases) {
    Admitted a = Admit(c.query, Client(1));
    EXPECT_EQ(a.verdict, Verdict::kReply) << c.why;
    ASSERT_GE(a.size, kHeaderSize) << c.why;
    EXPECT_EQ(rcode(), c.rcode) << c.why;
    EXPECT_EQ(id(), 3) << c.why;
    EXPECT_TRUE(ReadU16(&out_[2]) & kFlagQR) << c.why;
  }
}

TEST_F(AdmissionTest, ErrorRepliesEchoAReadableQuestion) {
  std::vector<uint8_t> transfer = MakeQuery("example.com", kTypeAXFR, {.id = 5});
  Admitted a = Admit(transfer, Client(1));
  EXPECT_EQ(rcode(), kNotImp);
  EXPECT_EQ(ReadU16(&out_[4]), 1) << "the question comes back";
  EXPECT_EQ(a.size, transfer.size());
  EXPECT_TRUE(std::equal(transfer.begin() + kHeaderSize, transfer.end(), out_.begin() + kHeaderSize));

  // The opcode decides before the question is read: nothing to echo.
  Admit(MakeQuery("www.example.com", kTypeA, {.id = 6, .flags = 2 << 11}), Client(1));
  EXPECT_EQ(ReadU16(&out_[4]), 0);
}

TEST_F(AdmissionTest, UnknownEdnsVersionGetsBadVers) {
  Admitted a = Admit(MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232, .edns_version = 2}), Client(1));
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_EQ(rcode(), 0);
  EXPECT_EQ(out_[a.size - kOptSize + 5], 1) << "extended rcode: BADVERS";
}

TEST_F(AdmissionTest, ClientsOutsideTheAclAreRefusedEvenOnACacheHit) {
  std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA, {.id = 42});
  Admitted a = Admit(q, kOutsider);
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_EQ(rcode(), kRefused);
  EXPECT_EQ(id(), 42);
  EXPECT_EQ(a.size, q.size()) << "header and the echoed question";
  EXPECT_EQ(ReadU16(&out_[6]), 0) << "no answer leaks out";
  EXPECT_EQ(cache_.hits(), 0u);
}

TEST_F(AdmissionTest, PassesThePrefetchPolicyToTheCache) {
  // The cached answer (30 s, stored at 0) is asked for near its end.
  const PrefetchPolicy policy{.amount = 1, .duration = 60'000, .percentage = 50};
  std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA);
  std::vector<uint8_t> out(512);
  QueryView view;
  Admitted without = AdmitQuery(q, Client(1), {.acl = &acl_, .cache = &cache_, .now = 20'000}, view, out);
  EXPECT_EQ(without.verdict, Verdict::kReply);
  EXPECT_FALSE(without.prefetch);
  Admitted with = AdmitQuery(q, Client(1), {.acl = &acl_, .cache = &cache_, .now = 20'000, .prefetch = &policy}, view, out);
  EXPECT_EQ(with.verdict, Verdict::kReply);
  EXPECT_TRUE(with.prefetch);
}

TEST_F(AdmissionTest, UdpHitsAreCutToTheClientsSizeTcpHitsAreNot) {
  // 40 addresses: 33 + 40 * 31 bytes, over 512 but within 4096.
  QueryView view;
  std::vector<uint8_t> big_q = MakeQuery("www.example.com", kTypeA);
  ASSERT_EQ(ParseQuery(big_q, view), QueryCheck::kOk);
  auto big = Answer(40);
  ASSERT_GT(big->wire.size(), 512u);
  cache_.Insert(CacheKey::For(view), big, 0);

  Admitted udp = Admit(big_q, Client(1), /*udp=*/true);
  EXPECT_EQ(udp.verdict, Verdict::kReply);
  EXPECT_EQ(udp.size, view.question_end);
  EXPECT_TRUE(ReadU16(&out_[2]) & kFlagTC);

  Admitted tcp = Admit(big_q, Client(1), /*udp=*/false);
  EXPECT_EQ(tcp.size, big->wire.size());
  EXPECT_FALSE(ReadU16(&out_[2]) & kFlagTC);

  // A client advertising a large EDNS buffer gets it all over UDP, up to the cap.
  std::vector<uint8_t> edns_q = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 4096});
  Admitted edns = Admit(edns_q, Client(1), /*udp=*/true, /*udp_reply_size=*/4096);
  EXPECT_EQ(edns.size, big->wire.size() + kOptSize);
}

TEST_F(AdmissionTest, UdpHitsStopAt1232BytesHoweverMuchTheClientOffers) {
  // 51 addresses: a 1,614-byte answer, as large as the issue's.
  QueryView view;
  std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA, {.id = 0x4321, .edns_udp_size = 4096});
  ASSERT_EQ(ParseQuery(q, view), QueryCheck::kOk);
  auto big = Answer(51);
  ASSERT_GT(big->wire.size(), 1600u);
  cache_.Insert(CacheKey::For(view), big, 0);

  Admitted udp = Admit(q, Client(1));
  ASSERT_EQ(udp.verdict, Verdict::kReply);
  ASSERT_EQ(udp.size, view.question_end + kOptSize) << "header, question and OPT";
  EXPECT_TRUE(ReadU16(&out_[2]) & kFlagTC);
  EXPECT_EQ(id(), 0x4321);
  EXPECT_EQ(ReadU16(&out_[4]), 1) << "QDCOUNT";
  EXPECT_EQ(ReadU16(&out_[6]), 0) << "ANCOUNT";
  EXPECT_EQ(ReadU16(&out_[10]), 1) << "ARCOUNT: the OPT";
  EXPECT_TRUE(std::equal(q.begin() + kHeaderSize, q.begin() + view.question_end, out_.begin() + kHeaderSize));
  EXPECT_EQ(ReadU16(&out_[view.question_end + 1]), kTypeOPT);
  EXPECT_EQ(ReadU16(&out_[view.question_end + 3]), kAdvertisedUdpSize);

  Admitted tcp = Admit(q, Client(1), /*udp=*/false);
  EXPECT_EQ(tcp.size, big->wire.size() + kOptSize);
  EXPECT_FALSE(ReadU16(&out_[2]) & kFlagTC);

  // limits.udp_reply_size raised: the client's 4096 bytes are honoured, and announced.
  Admitted raised = Admit(q, Client(1), /*udp=*/true, /*udp_reply_size=*/4096);
  EXPECT_EQ(raised.size, big->wire.size() + kOptSize);
  EXPECT_FALSE(ReadU16(&out_[2]) & kFlagTC);
  EXPECT_EQ(ReadU16(&out_[raised.size - kOptSize + 3]), 4096);
}

TEST_F(AdmissionTest, SignedQueriesAreRefusedEvenWhenCached) {
  // meshdns holds no TSIG keys and cannot pass a signature on: REFUSED, not an unsigned answer.
  Wire w = Wire().Header(0x5151, kFlagRD, 1, 0, 0, 1).Question("www.example.com", kTypeA);
  w.Rr("key.example", kTypeTSIG, 0, std::vector<uint8_t>(26, 0), kClassANY);
  Admitted a = Admit(w.bytes(), Client(1));
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_EQ(rcode(), kRefused);
  EXPECT_EQ(id(), 0x5151);
  EXPECT_EQ(ReadU16(&out_[4]), 1) << "the question echoed";
  EXPECT_EQ(ReadU16(&out_[6]), 0) << "no answer";
  EXPECT_EQ(ReadU16(&out_[10]), 0) << "and no TSIG: meshdns cannot sign";
}

// --- a Corefile block's acl: before the cache ----------------------------------

class BlockAclTest : public AdmissionTest {
 protected:
  // One root block whose acl has `policy` (and chaos, which answers before the acl).
  void Serve(AclPolicy policy) {
    Block root;
    root.zones = {DnsName()};
    root.acl = ZoneAcl({AclRule{.zones = {DnsName()}, .policies = {std::move(policy)}}});
    root.builtin.chaos.emplace("v", std::vector<std::string>{}, "h");
    std::vector<Block> blocks;
    blocks.push_back(std::move(root));
    program_ = Program(std::move(blocks), std::nullopt, nullptr);
  }
  Admitted AdmitCorefile(const std::vector<uint8_t>& query, const IpAddress& client) {
    out_.assign(4096, 0);
    Admitted a = AdmitQuery(query, client, {.program = &program_, .cache = &cache_, .now = 1000}, view_, out_);
    out_.resize(a.size);
    return a;
  }
  // The INFO-CODE of the reply's EDE option, or -1 without one.
  int Ede() const {
    if (ReadU16(&out_[10]) == 0 || out_.size() < kOptSize + 6) return -1;
    const size_t opt = out_.size() - kOptSize - 6;
    if (ReadU16(&out_[opt + 1]) != kTypeOPT || ReadU16(&out_[opt + 9]) != 6 || ReadU16(&out_[opt + 11]) != 15) return -1;
    return ReadU16(&out_[opt + 15]);
  }

  Program program_;
};

TEST_F(BlockAclTest, ABlockedClientIsRefusedEvenOnACacheHitWithTheEde) {
  Serve(AclPolicy{.action = AclAction::kBlock, .nets = {*Cidr::Parse("10.0.0.0/8")}});
  std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA, {.id = 42, .edns_udp_size = 1232});
  Admitted a = AdmitCorefile(q, Client(1));
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_TRUE(a.acl_refused);
  EXPECT_EQ(rcode(), kRefused);
  EXPECT_EQ(id(), 42);
  EXPECT_EQ(ReadU16(&out_[6]), 0) << "no answer leaks out";
  EXPECT_EQ(Ede(), kEdeBlocked);
  EXPECT_EQ(cache_.hits(), 0u);

  // Without an OPT in the query the reply carries none (RFC 6891 7).
  a = AdmitCorefile(MakeQuery("www.example.com", kTypeA), Client(1));
  EXPECT_EQ(rcode(), kRefused);
  EXPECT_EQ(ReadU16(&out_[10]), 0);

  a = AdmitCorefile(MakeQuery("www.example.com", kTypeA), kOutsider);
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_TRUE(a.acl_allowed);
  EXPECT_EQ(ReadU16(&out_[6]), 1) << "an allowed client gets the cached answer";
  EXPECT_EQ(cache_.hits(), 1u);
}

TEST_F(BlockAclTest, FilterAnswersAnEmptyNoErrorWithTheEde) {
  Serve(AclPolicy{.action = AclAction::kFilter, .qtypes = {kTypeA}});
  Admitted a = AdmitCorefile(MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232}), kOutsider);
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_TRUE(a.acl_filtered);
  EXPECT_EQ(rcode(), kNoError);
  EXPECT_EQ(ReadU16(&out_[6]), 0);
  EXPECT_EQ(Ede(), kEdeFiltered);
  EXPECT_EQ(AdmitCorefile(MakeQuery("www.example.com", kTypeAAAA), kOutsider).verdict, Verdict::kResolve);
}

TEST_F(BlockAclTest, DropAnswersNothing) {
  Serve(AclPolicy{.action = AclAction::kDrop});
  Admitted a = AdmitCorefile(MakeQuery("www.example.com", kTypeA), kOutsider);
  EXPECT_EQ(a.verdict, Verdict::kDrop);
  EXPECT_TRUE(a.acl_dropped);
}

// chaos comes before acl in plugin.cfg: a blocked client still gets version.bind.
TEST_F(BlockAclTest, WhatChaosAnswersIsNotTheAclsToJudge) {
  Serve(AclPolicy{.action = AclAction::kBlock});
  std::vector<uint8_t> q = MakeQuery("version.bind", kTypeTXT);
  q[q.size() - 1] = kClassCH;  // the question's class, last on the wire
  const Admitted chaos = AdmitCorefile(q, kOutsider);
  EXPECT_EQ(chaos.verdict, Verdict::kResolve);
  EXPECT_FALSE(chaos.acl_allowed) << "the acl was not asked";
  EXPECT_EQ(AdmitCorefile(MakeQuery("version.bind", kTypeTXT), kOutsider).verdict, Verdict::kReply)
      << "class IN: blocked";
}

// server.go: a class no block serves is REFUSED before the EDNS version is read.
TEST_F(BlockAclTest, AClassNoBlockServesIsRefusedBeforeBadVers) {
  Block root;
  root.zones = {DnsName()};
  root.opens_classes = false;  // neither chaos nor forward
  std::vector<Block> blocks;
  blocks.push_back(std::move(root));
  program_ = Program(std::move(blocks), std::nullopt, nullptr);
  std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232, .edns_version = 1});
  q[kHeaderSize + 17 + 3] = kClassCH;  // the question's class: after the name (17 bytes) and the type
  Admitted a = AdmitCorefile(q, Client(1));
  EXPECT_EQ(a.verdict, Verdict::kReply);
  EXPECT_EQ(rcode(), kRefused);
  EXPECT_EQ(out_[a.size - kOptSize + 5], 0) << "no BADVERS";

  q[kHeaderSize + 17 + 3] = kClassIN;
  a = AdmitCorefile(q, Client(1));
  EXPECT_EQ(rcode(), 0);
  EXPECT_EQ(out_[a.size - kOptSize + 5], 1) << "class IN: BADVERS";
}

}  // namespace
}  // namespace meshdns
