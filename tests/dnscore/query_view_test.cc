#include "dnscore/query_view.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::MakeQuery;
using testing::QueryOptions;
using testing::Wire;

QueryCheck Check(std::span<const uint8_t> msg) {
  QueryView view;
  return ParseQuery(msg, view);
}

TEST(ParseQueryTest, ReadsAPlainQuery) {
  std::vector<uint8_t> q = MakeQuery("WwW.Example.com", kTypeAAAA, {.id = 0x4242, .flags = kFlagRD | kFlagCD});
  QueryView view;
  ASSERT_EQ(ParseQuery(q, view), QueryCheck::kOk);
  EXPECT_EQ(view.header.id, 0x4242);
  EXPECT_EQ(view.qname.ToText(), "WwW.Example.com.");  // case preserved
  EXPECT_EQ(view.qtype, kTypeAAAA);
  EXPECT_EQ(view.qclass, kClassIN);
  EXPECT_EQ(view.question_end, q.size());
  EXPECT_TRUE(view.rd());
  EXPECT_TRUE(view.cd());
  EXPECT_FALSE(view.edns.present);
  EXPECT_EQ(view.MaxUdpReply(), 512u);
}

TEST(ParseQueryTest, DropsWhatHasNoHeaderOrIsAResponse) {
  std::vector<uint8_t> q = MakeQuery("example.com", kTypeA);
  for (size_t n : {0, 1, 11}) {
    EXPECT_EQ(Check(std::span<const uint8_t>(q).first(n)), QueryCheck::kDrop) << n << " bytes";
  }
  // Answering a response could start a loop between two servers.
  std::vector<uint8_t> response = MakeQuery("example.com", kTypeA, {.flags = kFlagQR | kFlagRD});
  EXPECT_EQ(Check(response), QueryCheck::kDrop);
}

TEST(ParseQueryTest, UnsupportedOpcodesAndTransfersAreNotImplemented) {
  for (uint16_t opcode : {1, 2, 4, 5, 15}) {
    std::vector<uint8_t> q = MakeQuery("example.com", kTypeA, {.id = 7, .flags = static_cast<uint16_t>(opcode << 11)});
    QueryView view;
    EXPECT_EQ(ParseQuery(q, view), QueryCheck::kNotImp) << "opcode " << opcode;
    EXPECT_EQ(view.header.id, 7);  // the header is kept so NOTIMP can be sent
  }
  EXPECT_EQ(Check(MakeQuery("example.com", kTypeAXFR)), QueryCheck::kNotImp);
  EXPECT_EQ(Check(MakeQuery("example.com", kTypeIXFR)), QueryCheck::kNotImp);
}

TEST(ParseQueryTest, QuestionCountMustBeOne) {
  Wire none = Wire().Header(1, 0, 0);
  EXPECT_EQ(Check(none), QueryCheck::kFormErr);
  Wire two = Wire().Header(1, 0, 2).Question("a.example", kTypeA).Question("b.example", kTypeA);
  EXPECT_EQ(Check(two), QueryCheck::kFormErr);
}

TEST(ParseQueryTest, EveryTruncationOfTheQuestionIsFormErr) {
  std::vector<uint8_t> q = MakeQuery("www.example.com", kTypeA);
  for (size_t n = kHeaderSize; n < q.size(); ++n) {
    EXPECT_EQ(Check(std::span<const uint8_t>(q).first(n)), QueryCheck::kFormErr) << n << " of " << q.size();
  }
}

TEST(ParseQueryTest, CompressionInTheQuestionIsFormErr) {
  // Nothing precedes the question, so any pointer in it is bogus.
  Wire self = Wire().Header(1, 0, 1).Pointer(kHeaderSize).U16(kTypeA).U16(kClassIN);
  EXPECT_EQ(Check(self), QueryCheck::kFormErr) << "pointer to itself (a loop)";
  Wire into_header = Wire().Header(1, 0, 1).Bytes({1, 'a'}).Pointer(2).U16(kTypeA).U16(kClassIN);
  EXPECT_EQ(Check(into_header), QueryCheck::kFormErr) << "pointer into the header";
  Wire loop = Wire().Header(1, 0, 1).Bytes({1, 'a'}).Pointer(kHeaderSize).U16(kTypeA).U16(kClassIN);
  EXPECT_EQ(Check(loop), QueryCheck::kFormErr) << "pointer back to the question's start";
}

TEST(ParseQueryTest, TrailingBytesAreFormErr) {
  std::vector<uint8_t> q = MakeQuery("example.com", kTypeA);
  q.push_back(0);
  EXPECT_EQ(Check(q), QueryCheck::kFormErr);
}

TEST(ParseQueryTest, MalformedRecordsAfterTheQuestionAreFormErr) {
  // ARCOUNT promises a record that is not there.
  Wire missing = Wire().Header(1, 0, 1, 0, 0, 1).Question("example.com", kTypeA);
  EXPECT_EQ(Check(missing), QueryCheck::kFormErr);
  // An OPT whose RDLENGTH runs past the end.
  Wire overrun = Wire().Header(1, 0, 1, 0, 0, 1).Question("example.com", kTypeA);
  overrun.U8(0).U16(kTypeOPT).U16(1232).U32(0).U16(8).Bytes({0, 1});
  EXPECT_EQ(Check(overrun), QueryCheck::kFormErr);
  // A record cut in its fixed fields.
  Wire cut = Wire().Header(1, 0, 1, 0, 0, 1).Question("example.com", kTypeA).Name("x").U16(kTypeA).U16(kClassIN);
  EXPECT_EQ(Check(cut), QueryCheck::kFormErr);
}

TEST(ParseQueryTest, OptMustBeSingleRootOwnedAndInTheAdditionalSection) {
  Wire two = Wire().Header(1, 0, 1, 0, 0, 2).Question("example.com", kTypeA).Opt(1232).Opt(1232);
  EXPECT_EQ(Check(two), QueryCheck::kFormErr) << "two OPT records";

  Wire named = Wire().Header(1, 0, 1, 0, 0, 1).Question("example.com", kTypeA);
  named.Name("example.com").U16(kTypeOPT).U16(1232).U32(0).U16(0);
  EXPECT_EQ(Check(named), QueryCheck::kFormErr) << "OPT owned by a non-root name";

  Wire in_answer = Wire().Header(1, 0, 1, 1, 0, 0).Question("example.com", kTypeA).Opt(1232);
  EXPECT_EQ(Check(in_answer), QueryCheck::kFormErr) << "OPT in the answer section";
}

TEST(ParseQueryTest, OtherAdditionalRecordsAreAllowed) {
  // Records other than OPT are stepped over; outside the question a
  // compressed owner (here pointing at the question name) is legal.
  Wire w = Wire().Header(1, 0, 1, 0, 0, 2).Question("example.com", kTypeA).Opt(4096);
  w.Pointer(kHeaderSize).RrBody(kTypeA, 60, std::vector<uint8_t>{1, 2, 3, 4});
  QueryView view;
  ASSERT_EQ(ParseQuery(w, view), QueryCheck::kOk);
  EXPECT_TRUE(view.edns.present);
  EXPECT_EQ(view.edns.udp_size, 4096);
}

TEST(ParseQueryTest, EdnsVersionOtherThanZeroIsBadVers) {
  std::vector<uint8_t> q = MakeQuery("example.com", kTypeA, {.edns_udp_size = 1232, .edns_version = 1});
  QueryView view;
  ASSERT_EQ(ParseQuery(q, view), QueryCheck::kBadVers);
  // The question and EDNS are read, so BADVERS can echo them.
  EXPECT_EQ(view.qname.ToText(), "example.com.");
  EXPECT_TRUE(view.edns.present);
  EXPECT_EQ(view.edns.version, 1);
}

TEST(ParseQueryTest, ReadsEdnsSizeAndDoBit) {
  QueryView view;
  std::vector<uint8_t> with_do = MakeQuery("example.com", kTypeA, {.edns_udp_size = 4096, .dnssec_ok = true});
  ASSERT_EQ(ParseQuery(with_do, view), QueryCheck::kOk);
  EXPECT_TRUE(view.edns.present);
  EXPECT_EQ(view.edns.udp_size, 4096);
  EXPECT_TRUE(view.edns.dnssec_ok);
  EXPECT_EQ(view.MaxUdpReply(), 4096u);
  // question_end stops before the OPT.
  EXPECT_EQ(view.question_end, with_do.size() - 11);

  std::vector<uint8_t> without_do = MakeQuery("example.com", kTypeA, {.edns_udp_size = 1400});
  ASSERT_EQ(ParseQuery(without_do, view), QueryCheck::kOk);
  EXPECT_EQ(view.edns.udp_size, 1400);
  EXPECT_FALSE(view.edns.dnssec_ok);

  // A later query without EDNS must not inherit the previous one's.
  ASSERT_EQ(ParseQuery(MakeQuery("example.com", kTypeA), view), QueryCheck::kOk);
  EXPECT_FALSE(view.edns.present);
  EXPECT_EQ(view.MaxUdpReply(), 512u);
}

TEST(ParseQueryTest, MaxUdpReplyIsNeverBelow512) {
  for (uint16_t advertised : {0, 1, 100, 511, 512}) {
    QueryView view;
    std::vector<uint8_t> q = MakeQuery("example.com", kTypeA, {.edns_udp_size = advertised, .edns = true});
    ASSERT_EQ(ParseQuery(q, view), QueryCheck::kOk);
    ASSERT_TRUE(view.edns.present);
    EXPECT_EQ(view.MaxUdpReply(), 512u) << "advertised " << advertised;
  }
}

// A TSIG record (RFC 8945 4.2) as a client's signature: key name, class ANY,
// TTL 0, and RDATA whose content does not matter here.
Wire& Tsig(Wire& w) { return w.Rr("key.example", kTypeTSIG, 0, std::vector<uint8_t>(26, 0), kClassANY); }

TEST(ParseQueryTest, SignedQueryIsToldApartAndTsigMustComeLast) {
  Wire signed_query = Wire().Header(1, kFlagRD, 1, 0, 0, 2).Question("example.com", kTypeA).Opt(1232);
  Tsig(signed_query);
  QueryView view;
  ASSERT_EQ(ParseQuery(signed_query, view), QueryCheck::kSigned);
  EXPECT_EQ(view.qname.ToText(), "example.com.") << "the question is read, so REFUSED can echo it";
  EXPECT_TRUE(view.edns.present);

  // RFC 8945 5.2: a TSIG anywhere but last in the additional section is FORMERR.
  Wire before_opt = Wire().Header(1, kFlagRD, 1, 0, 0, 2).Question("example.com", kTypeA);
  Tsig(before_opt).Opt(1232);
  EXPECT_EQ(Check(before_opt), QueryCheck::kFormErr);
  Wire in_authority = Wire().Header(1, kFlagRD, 1, 0, 1, 0).Question("example.com", kTypeA);
  Tsig(in_authority);
  EXPECT_EQ(Check(in_authority), QueryCheck::kFormErr);
}

TEST(ParseQueryTest, BadMessagesStillHaveTheirOptRead) {
  // No question, or two: FORMERR, but the client spoke EDNS and must hear it back (RFC 6891 7).
  for (uint16_t questions : {0, 2}) {
    Wire w = Wire().Header(1, kFlagRD, questions, 0, 0, 1);
    for (uint16_t i = 0; i < questions; ++i) w.Question("example.com", kTypeA);
    w.Opt(4096, 0, /*dnssec_ok=*/true);
    QueryView view;
    ASSERT_EQ(ParseQuery(w, view), QueryCheck::kFormErr) << questions;
    EXPECT_TRUE(view.edns.present) << questions;
    EXPECT_TRUE(view.edns.dnssec_ok) << questions;
    EXPECT_EQ(view.question_end, 0u) << "no question to echo";
  }
  // An opcode meshdns does not serve.
  Wire status = Wire().Header(1, 2 << 11, 1, 0, 0, 1).Question("example.com", kTypeA).Opt(1232);
  QueryView view;
  ASSERT_EQ(ParseQuery(status, view), QueryCheck::kNotImp);
  EXPECT_TRUE(view.edns.present);
  // Records that cannot be walked up to an OPT leave it unknown.
  Wire cut = Wire().Header(1, 0, 0, 0, 0, 2).Name("x").U16(kTypeA);
  ASSERT_EQ(ParseQuery(cut, view), QueryCheck::kFormErr);
  EXPECT_FALSE(view.edns.present);
}

TEST(ParseQueryTest, UdpReplyLimitIsTheClientsSizeWithinTheCap) {
  QueryView view;
  ASSERT_EQ(ParseQuery(MakeQuery("example.com", kTypeA, {.edns_udp_size = 4096}), view), QueryCheck::kOk);
  EXPECT_EQ(view.UdpReplyLimit(1232), 1232u);
  EXPECT_EQ(view.UdpReplyLimit(4096), 4096u);
  ASSERT_EQ(ParseQuery(MakeQuery("example.com", kTypeA, {.edns_udp_size = 1000}), view), QueryCheck::kOk);
  EXPECT_EQ(view.UdpReplyLimit(1232), 1000u);
  ASSERT_EQ(ParseQuery(MakeQuery("example.com", kTypeA), view), QueryCheck::kOk);
  EXPECT_EQ(view.UdpReplyLimit(1232), 512u);
}

}  // namespace
}  // namespace meshdns
