#include "dnscore/reply_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "dnscore/stored_reply.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::MakeQuery;
using testing::QueryOptions;
using testing::Wire;

// What an upstream said for "www.example.com A": AA and RA set, RD set (meshdns
// asked with RD), two addresses with TTL 20, and one additional record.
StoredReply StoredAnswer() {
  Wire w = Wire()
               .Header(0x9999, kFlagQR | kFlagAA | kFlagRD | kFlagRA, 1, 2, 0, 1)
               .Question("www.example.com", kTypeA)
               .A("www.example.com", 20, {192, 0, 2, 1})
               .A("www.example.com", 20, {192, 0, 2, 2})
               .A("ns.example.com", 20, {192, 0, 2, 53});
  return *StoredReply::FromMessage(w, TtlPolicy{.min_ttl = 1, .max_ttl = 60});
}

// (std::nullopt spelled out: g++ 12 warns when a designated initialiser skips an optional.)
WriteOptions Limit(size_t limit) { return {.ttl = std::nullopt, .limit = limit}; }

StoredView View(const StoredReply& r) { return r.View(); }

struct Written {
  std::vector<uint8_t> bytes;
  uint16_t id() const { return ReadU16(&bytes[0]); }
  uint16_t flags() const { return ReadU16(&bytes[2]); }
  uint16_t count(int i) const { return ReadU16(&bytes[4 + 2 * i]); }  // 0 QD, 1 AN, 2 NS, 3 AR
};

Written Write(const StoredReply& reply, const std::vector<uint8_t>& query, const WriteOptions& options = {}) {
  QueryView view;
  EXPECT_EQ(ParseQuery(query, view), QueryCheck::kOk);
  std::vector<uint8_t> out(4096, 0xee);
  size_t n = WriteReply(View(reply), view, query, options, out);
  out.resize(n);
  return {out};
}

TEST(WriteReplyTest, PatchesIdAndCopiesTheClientsQuestionCase) {
  StoredReply stored = StoredAnswer();
  std::vector<uint8_t> query = MakeQuery("WwW.eXaMpLe.CoM", kTypeA, {.id = 0x1234});
  Written w = Write(stored, query);
  ASSERT_EQ(w.bytes.size(), stored.wire.size());
  EXPECT_EQ(w.id(), 0x1234);
  // The question is the client's, byte for byte (0x20 case randomisation).
  EXPECT_TRUE(std::equal(query.begin() + kHeaderSize, query.end(), w.bytes.begin() + kHeaderSize));
  // The rest is the stored reply.
  EXPECT_TRUE(std::equal(stored.wire.begin() + stored.question_end, stored.wire.end(),
                         w.bytes.begin() + stored.question_end));
  EXPECT_EQ(w.count(0), 1);
  EXPECT_EQ(w.count(1), 2);
  EXPECT_EQ(w.count(3), 1);
}

TEST(WriteReplyTest, RdAndCdComeFromTheQueryOtherFlagsFromTheReply) {
  StoredReply stored = StoredAnswer();
  Written no_rd = Write(stored, MakeQuery("www.example.com", kTypeA, {.flags = kFlagCD}));
  EXPECT_FALSE(no_rd.flags() & kFlagRD);
  EXPECT_TRUE(no_rd.flags() & kFlagCD);
  Written rd = Write(stored, MakeQuery("www.example.com", kTypeA, {.flags = kFlagRD}));
  EXPECT_TRUE(rd.flags() & kFlagRD);
  EXPECT_FALSE(rd.flags() & kFlagCD);
  for (const Written& w : {no_rd, rd}) {
    EXPECT_TRUE(w.flags() & kFlagQR);
    EXPECT_TRUE(w.flags() & kFlagAA);
    EXPECT_TRUE(w.flags() & kFlagRA);
    EXPECT_FALSE(w.flags() & kFlagTC);
    EXPECT_EQ(w.flags() & 0xf, kNoError);
  }
}

TEST(WriteReplyTest, SetsEveryTtlOnlyWhenAsked) {
  StoredReply stored = StoredAnswer();
  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA);
  Written as_stored = Write(stored, query);
  Written aged = Write(stored, query, {.ttl = 7});
  for (uint16_t at : stored.ttl_offsets) {
    EXPECT_EQ(ReadU32(&as_stored.bytes[at]), 20u);
    EXPECT_EQ(ReadU32(&aged.bytes[at]), 7u);
  }
  EXPECT_EQ(stored.ttl_offsets.size(), 3u);
}

// "www.example.com A" answered with three addresses whose owners point at the question, as servers write them.
StoredReply CompressedAnswer() {
  Wire w = Wire().Header(0, kFlagQR | kFlagRD | kFlagRA, 1, 3).Question("www.example.com", kTypeA);
  for (uint8_t last : {1, 2, 3}) w.Pointer(kHeaderSize).RrBody(kTypeA, 20, std::vector<uint8_t>{192, 0, 2, last});
  return *StoredReply::FromMessage(w, TtlPolicy{.min_ttl = 1, .max_ttl = 60});
}

std::vector<uint8_t> LastOctets(const Written& w) {
  std::vector<uint8_t> out;
  const size_t question_end = kHeaderSize + 17 + 4;
  for (size_t i = 0; i < 3; ++i) out.push_back(w.bytes[question_end + i * 16 + 15]);
  return out;
}

TEST(WriteReplyTest, LoadbalanceRotatesTheAddressRunOnEveryWrite) {
  StoredReply reply = CompressedAnswer();
  ASSERT_TRUE(reply.MarkAddressRotation());
  EXPECT_EQ(reply.rotation.count, 3);
  EXPECT_EQ(reply.rotation.size, 16);
  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA);
  RotationTurn turn;  // a worker's
  std::set<std::vector<uint8_t>> orders;
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> order = LastOctets(Write(reply, query, {.ttl = std::nullopt, .rotation = &turn}));
    std::vector<uint8_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<uint8_t>{1, 2, 3})) << "every record, whole";
    orders.insert(order);
  }
  EXPECT_EQ(orders.size(), 3u) << "three writes, three rotations";
  EXPECT_EQ(LastOctets(Write(reply, query)), LastOctets(Write(reply, query))) << "no turn given: served as stored";
  EXPECT_FALSE(StoredAnswer().MarkAddressRotation()) << "owners written out in full could be pointed into";
}

// Addresses of the records written, in order, for a run of `count` A records.
std::vector<std::vector<uint8_t>> Addresses(const Written& w, const StoredReply& r) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < r.rotation.count; ++i) {
    const uint8_t* rdata = &w.bytes[r.rotation.at + i * r.rotation.size + 12];
    out.emplace_back(rdata, rdata + 4);
  }
  return out;
}

Cidr Subnet(absl::string_view text) { return *Cidr::Parse(text); }

// CoreDNS's loadbalance README ("Subnet Prioritization") and TestSortPreferred:
// after the shuffle, addresses in the first listed subnet go first, then the
// second's, each group in the order it came; the rest keep theirs, last.
TEST(WriteReplyTest, PreferPutsTheListedSubnetsFirstAfterEveryTurn) {
  Wire w = Wire().Header(0, kFlagQR | kFlagRD | kFlagRA, 1, 6).Question("www.example.com", kTypeA);
  const std::vector<std::vector<uint8_t>> stored_order = {
      {10, 9, 30, 1}, {10, 9, 20, 5}, {192, 168, 1, 2}, {10, 10, 0, 1}, {10, 9, 20, 3}, {172, 16, 0, 1}};
  for (const auto& a : stored_order) w.Pointer(kHeaderSize).RrBody(kTypeA, 20, a);
  StoredReply reply = *StoredReply::FromMessage(w, TtlPolicy{.min_ttl = 1, .max_ttl = 60});
  ASSERT_TRUE(reply.MarkAddressRotation());
  reply.prefer = std::make_shared<const std::vector<Cidr>>(
      std::vector<Cidr>{Subnet("2001:db8::/32"), Subnet("10.9.20.0/24"), Subnet("10.9.30.0/24")});
  const std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA);

  // No turn: the stored order, sorted by subnet.
  EXPECT_EQ(Addresses(Write(reply, query), reply),
            (std::vector<std::vector<uint8_t>>{
                {10, 9, 20, 5}, {10, 9, 20, 3}, {10, 9, 30, 1}, {192, 168, 1, 2}, {10, 10, 0, 1}, {172, 16, 0, 1}}));
  // Every turn: the preferred groups still lead, and every record is there whole.
  RotationTurn turn;
  std::set<std::vector<std::vector<uint8_t>>> orders;
  for (int i = 0; i < 6; ++i) {
    std::vector<std::vector<uint8_t>> order = Addresses(Write(reply, query, {.ttl = std::nullopt, .rotation = &turn}), reply);
    EXPECT_EQ(order[0][2], 20) << "10.9.20.0/24 first";
    EXPECT_EQ(order[1][2], 20);
    EXPECT_EQ(order[2], (std::vector<uint8_t>{10, 9, 30, 1}));
    std::vector<std::vector<uint8_t>> sorted = order, want = stored_order;
    std::sort(sorted.begin(), sorted.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(sorted, want);
    orders.insert(order);
  }
  EXPECT_GT(orders.size(), 1u) << "the turn still changes the order within and after the preferred groups";
}

TEST(WriteReplyTest, TtlFloorAndCeilingBoundTheServedTtl) {
  StoredReply reply = CompressedAnswer();
  reply.ttl_floor = 30;
  reply.ttl_ceiling = 40;
  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA);
  Written low = Write(reply, query, {.ttl = 7, .limit = 512});
  EXPECT_EQ(ReadU32(&low.bytes[reply.ttl_offsets[0]]), 30u);
  Written high = Write(reply, query, {.ttl = 300, .limit = 512});
  EXPECT_EQ(ReadU32(&high.bytes[reply.ttl_offsets[2]]), 40u);
}

TEST(WriteReplyTest, AppendsOptOnlyWhenTheQueryHadEdns) {
  StoredReply stored = StoredAnswer();
  Written plain = Write(stored, MakeQuery("www.example.com", kTypeA));
  EXPECT_EQ(plain.bytes.size(), stored.wire.size());
  EXPECT_EQ(plain.count(3), 1);

  for (bool dnssec_ok : {false, true}) {
    Written edns = Write(stored, MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 4096, .dnssec_ok = dnssec_ok}));
    ASSERT_EQ(edns.bytes.size(), stored.wire.size() + kOptSize);
    EXPECT_EQ(edns.count(3), 2) << "the stored additional record plus OPT";
    // Root owner, type OPT, our size (not the client's), rcode/version 0, DO echoed, no options.
    const std::vector<uint8_t> want = {0, 0, 41, 0x04, 0xd0, 0, 0, static_cast<uint8_t>(dnssec_ok ? 0x80 : 0), 0, 0, 0};
    EXPECT_EQ(std::vector<uint8_t>(edns.bytes.end() - kOptSize, edns.bytes.end()), want) << "DO " << dnssec_ok;
  }
}

// A template's ederror (RFC 8914) rides in the OPT of clients that sent one;
// a client without EDNS gets no OPT at all (RFC 6891 7).
TEST(WriteReplyTest, EdnsOptionsGoIntoTheOptOnlyForEdnsQueries) {
  StoredReply stored = StoredAnswer();
  // INFO-CODE 21 (Not Supported), EXTRA-TEXT "no".
  stored.ede = std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>{0, 15, 0, 4, 0, 21, 'n', 'o'});
  Written plain = Write(stored, MakeQuery("www.example.com", kTypeA));
  EXPECT_EQ(plain.bytes.size(), stored.wire.size());
  EXPECT_EQ(plain.count(3), 1);

  Written edns = Write(stored, MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 4096}));
  ASSERT_EQ(edns.bytes.size(), stored.wire.size() + kOptSize + 8);
  EXPECT_EQ(edns.count(3), 2);
  const std::vector<uint8_t> want = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 8, 0, 15, 0, 4, 0, 21, 'n', 'o'};
  EXPECT_EQ(std::vector<uint8_t>(edns.bytes.begin() + stored.wire.size(), edns.bytes.end()), want);

  // Cut for size, the option stays when it fits with header and question...
  const std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232});
  Written cut = Write(stored, query, Limit(stored.wire.size()));
  EXPECT_TRUE(cut.flags() & kFlagTC);
  ASSERT_EQ(cut.bytes.size(), stored.question_end + kOptSize + 8);
  EXPECT_EQ(ReadU16(&cut.bytes[stored.question_end + 9]), 8);
  // ...and is dropped, the OPT kept, when it does not.
  Written bare = Write(stored, query, Limit(stored.question_end + kOptSize + 7));
  EXPECT_TRUE(bare.flags() & kFlagTC);
  ASSERT_EQ(bare.bytes.size(), stored.question_end + kOptSize);
  EXPECT_EQ(ReadU16(&bare.bytes[stored.question_end + 9]), 0);
}

TEST(WriteReplyTest, AStoredTruncatedReplyKeepsItsTc) {
  Wire w = Wire()
               .Header(0x9999, kFlagQR | kFlagTC | kFlagRA, 1, 1)
               .Question("www.example.com", kTypeA)
               .A("www.example.com", 20, {192, 0, 2, 1});
  const StoredReply stored = *StoredReply::FromMessage(w, TtlPolicy{});
  EXPECT_FALSE(stored.cacheable);
  const Written written = Write(stored, MakeQuery("www.example.com", kTypeA));
  EXPECT_TRUE(written.flags() & kFlagTC);
  EXPECT_EQ(written.count(1), 1) << "what it has is still sent";
}

TEST(WriteReplyTest, TruncatesToHeaderAndQuestionWithTcWhenOverTheLimit) {
  StoredReply stored = StoredAnswer();
  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA, {.id = 77});
  // One byte short of fitting.
  Written cut = Write(stored, query, Limit(stored.wire.size() - 1));
  ASSERT_EQ(cut.bytes.size(), stored.question_end);
  EXPECT_TRUE(cut.flags() & kFlagTC);
  EXPECT_EQ(cut.id(), 77);
  EXPECT_EQ(cut.count(0), 1);
  EXPECT_EQ(cut.count(1), 0);
  EXPECT_EQ(cut.count(2), 0);
  EXPECT_EQ(cut.count(3), 0);

  // Exactly fitting is not truncated.
  Written whole = Write(stored, query, Limit(stored.wire.size()));
  EXPECT_EQ(whole.bytes.size(), stored.wire.size());
  EXPECT_FALSE(whole.flags() & kFlagTC);
}

TEST(WriteReplyTest, TruncationKeepsTheOptAndCountsIt) {
  StoredReply stored = StoredAnswer();
  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232});
  // The OPT counts against the limit: the reply alone would fit, with the OPT it does not.
  Written cut = Write(stored, query, Limit(stored.wire.size() + kOptSize - 1));
  ASSERT_EQ(cut.bytes.size(), stored.question_end + kOptSize);
  EXPECT_TRUE(cut.flags() & kFlagTC);
  EXPECT_EQ(cut.count(1), 0);
  EXPECT_EQ(cut.count(3), 1);
  EXPECT_EQ(cut.bytes[stored.question_end], 0);
  EXPECT_EQ(ReadU16(&cut.bytes[stored.question_end + 1]), kTypeOPT);
}

TEST(WriteReplyTest, OptAnnouncesTheConfiguredUdpSize) {
  StoredReply stored = StoredAnswer();
  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 4096});
  for (uint16_t advertised : {uint16_t{1232}, uint16_t{1400}}) {
    Written w = Write(stored, query, {.ttl = std::nullopt, .limit = 4096, .advertised = advertised});
    ASSERT_EQ(w.bytes.size(), stored.wire.size() + kOptSize);
    EXPECT_EQ(ReadU16(&w.bytes[stored.wire.size() + 3]), advertised);
  }
}

TEST(WriteReplyTest, RefusesAReplyForAnotherQuestionOrATooSmallBuffer) {
  StoredReply stored = StoredAnswer();
  QueryView view;
  std::vector<uint8_t> other = MakeQuery("example.com", kTypeA);  // a different question length
  ASSERT_EQ(ParseQuery(other, view), QueryCheck::kOk);
  std::vector<uint8_t> out(4096);
  EXPECT_EQ(WriteReply(View(stored), view, other, {}, out), 0u);

  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA);
  ASSERT_EQ(ParseQuery(query, view), QueryCheck::kOk);
  std::vector<uint8_t> tiny(stored.question_end - 1);
  EXPECT_EQ(WriteReply(View(stored), view, query, Limit(4096), tiny), 0u);
}

// Error replies: header (ID, QR, opcode, RD/CD copied), the question when it
// was readable, and an OPT when the query had one.
struct ErrorReply {
  std::vector<uint8_t> bytes;
  uint16_t flags() const { return ReadU16(&bytes[2]); }
};

ErrorReply WriteError(const std::vector<uint8_t>& query, uint8_t rcode) {
  QueryView view;
  QueryCheck check = ParseQuery(query, view);
  std::vector<uint8_t> out(512);
  out.resize(WriteErrorReply(check, rcode, view, query, out));
  return {out};
}

TEST(WriteErrorReplyTest, FormErrHasJustTheHeader) {
  Wire bad = Wire().Header(0xabcd, kFlagRD, 0);  // no question
  ErrorReply r = WriteError(bad.bytes(), kFormErr);
  ASSERT_EQ(r.bytes.size(), kHeaderSize);
  EXPECT_EQ(ReadU16(&r.bytes[0]), 0xabcd);
  EXPECT_TRUE(r.flags() & kFlagQR);
  EXPECT_TRUE(r.flags() & kFlagRD);
  EXPECT_EQ(r.flags() & 0xf, kFormErr);
  EXPECT_EQ(ReadU16(&r.bytes[4]), 0) << "QDCOUNT";
}

TEST(WriteErrorReplyTest, NotImpKeepsTheOpcode) {
  std::vector<uint8_t> notify = MakeQuery("example.com", kTypeSOA, {.id = 9, .flags = 4 << 11});
  ErrorReply r = WriteError(notify, kNotImp);
  ASSERT_GE(r.bytes.size(), kHeaderSize);
  EXPECT_EQ(ReadU16(&r.bytes[0]), 9);
  EXPECT_EQ((r.flags() >> 11) & 0xf, 4);
  EXPECT_EQ(r.flags() & 0xf, kNotImp);
  EXPECT_TRUE(r.flags() & kFlagQR);
}

TEST(WriteErrorReplyTest, NotImpEchoesCdOnlyForQuery) {
  // CD and AD are DNSSEC bits of QUERY; opcode 15 (unassigned) gets opcode and RD back, nothing else.
  const uint16_t flags = 15 << 11 | kFlagRD | kFlagCD | kFlagAD;
  ErrorReply r = WriteError(MakeQuery("example.com", kTypeA, {.id = 3, .flags = flags}), kNotImp);
  EXPECT_EQ(r.flags(), kFlagQR | 15 << 11 | kFlagRD | kNotImp);
  // A QUERY keeps CD (it is part of what was asked), never AD.
  ErrorReply query = WriteError(MakeQuery("example.com", kTypeA, {.flags = kFlagRD | kFlagCD | kFlagAD}), kRefused);
  EXPECT_EQ(query.flags(), kFlagQR | kFlagRD | kFlagCD | kRefused);
}

TEST(WriteErrorReplyTest, FormErrToAnEdnsQueryCarriesAnOpt) {
  // RFC 6891 7: a client that sent an OPT hears EDNS back, even when its question could not be used.
  Wire no_question = Wire().Header(0x0102, kFlagRD, 0, 0, 0, 1).Opt(4096, 0, /*dnssec_ok=*/true);
  ErrorReply r = WriteError(no_question.bytes(), kFormErr);
  ASSERT_EQ(r.bytes.size(), kHeaderSize + kOptSize);
  EXPECT_EQ(r.flags() & 0xf, kFormErr);
  EXPECT_EQ(ReadU16(&r.bytes[4]), 0) << "QDCOUNT";
  EXPECT_EQ(ReadU16(&r.bytes[10]), 1) << "ARCOUNT";
  EXPECT_EQ(ReadU16(&r.bytes[kHeaderSize + 1]), kTypeOPT);
  EXPECT_EQ(ReadU16(&r.bytes[kHeaderSize + 3]), kAdvertisedUdpSize);
  EXPECT_EQ(ReadU16(&r.bytes[kHeaderSize + 7]), 0x8000) << "DO echoed";

  QueryView view;
  ASSERT_EQ(ParseQuery(no_question, view), QueryCheck::kFormErr);
  std::vector<uint8_t> out(512);
  out.resize(WriteErrorReply(QueryCheck::kFormErr, kFormErr, view, no_question, out, 1400));
  ASSERT_EQ(out.size(), kHeaderSize + kOptSize);
  EXPECT_EQ(ReadU16(&out[kHeaderSize + 3]), 1400) << "the configured size";
}

TEST(WriteErrorReplyTest, RefusedEchoesTheQuestionAndEdns) {
  std::vector<uint8_t> query = MakeQuery("WWW.example.com", kTypeA, {.id = 5, .flags = kFlagRD | kFlagCD});
  ErrorReply plain = WriteError(query, kRefused);
  ASSERT_EQ(plain.bytes.size(), query.size());
  EXPECT_TRUE(std::equal(query.begin() + kHeaderSize, query.end(), plain.bytes.begin() + kHeaderSize));
  EXPECT_EQ(plain.flags() & 0xf, kRefused);
  EXPECT_EQ(plain.flags() & (kFlagRD | kFlagCD), kFlagRD | kFlagCD);
  EXPECT_EQ(ReadU16(&plain.bytes[4]), 1);
  EXPECT_EQ(ReadU16(&plain.bytes[10]), 0);

  std::vector<uint8_t> edns_query = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 4096, .dnssec_ok = true});
  ErrorReply edns = WriteError(edns_query, kRefused);
  ASSERT_EQ(edns.bytes.size(), edns_query.size());  // same question, our OPT instead of theirs
  EXPECT_EQ(ReadU16(&edns.bytes[10]), 1);
  const size_t opt = edns.bytes.size() - kOptSize;
  EXPECT_EQ(ReadU16(&edns.bytes[opt + 3]), kAdvertisedUdpSize);
  EXPECT_EQ(ReadU16(&edns.bytes[opt + 7]), 0x8000) << "DO echoed";
}

TEST(WriteErrorReplyTest, BadVersPutsTheExtendedRcodeInTheOpt) {
  std::vector<uint8_t> query = MakeQuery("www.example.com", kTypeA, {.edns_udp_size = 1232, .edns_version = 1});
  ErrorReply r = WriteError(query, 0);
  ASSERT_EQ(r.bytes.size(), query.size());
  // BADVERS is 16: 0 in the header's four bits, 1 in the OPT's upper eight.
  EXPECT_EQ(r.flags() & 0xf, 0);
  EXPECT_EQ(ReadU16(&r.bytes[10]), 1);
  const size_t opt = r.bytes.size() - kOptSize;
  EXPECT_EQ(ReadU16(&r.bytes[opt + 1]), kTypeOPT);
  EXPECT_EQ(r.bytes[opt + 5], 1) << "extended rcode";
  EXPECT_EQ(r.bytes[opt + 6], 0) << "we speak version 0";
}

}  // namespace
}  // namespace meshdns
