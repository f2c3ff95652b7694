// ExchangeTable: which datagram ends which UDP exchange, decided without a
// socket: a reply must come to the very port its query left from, carry its
// ID and answer its question; anything else is dropped.
#include "dnscore/exchange_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "dnscore/dns_name.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

std::vector<uint8_t> Query(uint16_t id, const char* name) {
  std::vector<uint8_t> q(512);
  const DnsName n = *DnsName::FromText(name);
  q.resize(WriteUpstreamQuery(id, UpstreamQuestion{.name = n, .qtype = kTypeA, .qclass = 1}, q));
  return q;
}

// What a resolver sends back: the query with QR set (and no records).
std::vector<uint8_t> ReplyTo(const std::vector<uint8_t>& query) {
  std::vector<uint8_t> r = query;
  r[2] |= 0x80;
  return r;
}

struct Tag {
  int value = 0;
};

class ExchangeTableTest : public ::testing::Test {
 protected:
  // Opens `query` under its ID, sent on `port`; the table only points at
  // the bytes, so the test keeps them.
  ExchangeTable<Tag>::Exchange& Sent(const std::vector<uint8_t>& query, PortRef port, int tag = 0) {
    const std::vector<uint8_t>& kept = sent_.emplace_back(query);
    ExchangeTable<Tag>::Exchange& e = table_.Open(ReadU16(kept.data()), kept, Tag{tag});
    e.port = port;
    return e;
  }
  ReplyMatch Why(const std::vector<uint8_t>& reply, PortRef arrived_on) {
    ReplyMatch why;
    EXPECT_EQ(table_.Match(reply, arrived_on, &why), nullptr);
    return why;
  }

  std::deque<std::vector<uint8_t>> sent_;
  ExchangeTable<Tag> table_;
  const PortRef port3_{.index = 3, .opening = 7};
};

TEST_F(ExchangeTableTest, AReplyOnItsPortWithItsIdAndQuestionEndsTheExchange) {
  const std::vector<uint8_t> query = Query(0x1234, "www.example.com");
  Sent(query, port3_, 42);
  ReplyMatch why;
  const auto* e = table_.Match(ReplyTo(query), port3_, &why);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(why, ReplyMatch::kAnswers);
  EXPECT_EQ(e->waiting.value, 42);
  EXPECT_EQ(e->id, 0x1234);
}

TEST_F(ExchangeTableTest, AReplyToARetiredPortIsDropped) {
  const std::vector<uint8_t> query = Query(0x1234, "www.example.com");
  Sent(query, port3_);
  // Read from the port this index had before it was retired and reopened.
  EXPECT_EQ(Why(ReplyTo(query), {.index = 3, .opening = 6}), ReplyMatch::kRetiredPort);
}

TEST_F(ExchangeTableTest, AReplyOnAnotherSocketIsDropped) {
  const std::vector<uint8_t> query = Query(0x1234, "www.example.com");
  Sent(query, port3_);
  EXPECT_EQ(Why(ReplyTo(query), {.index = 4, .opening = 7}), ReplyMatch::kOtherSocket);
}

TEST_F(ExchangeTableTest, AReplyWithAnIdNotUnderWayIsDropped) {
  Sent(Query(0x1234, "www.example.com"), port3_);
  EXPECT_EQ(Why(ReplyTo(Query(0x4321, "www.example.com")), port3_), ReplyMatch::kUnknownId);
  EXPECT_EQ(Why({0x12}, port3_), ReplyMatch::kTooShort);
}

TEST_F(ExchangeTableTest, AReplyToAnotherQuestionIsDropped) {
  Sent(Query(0x1234, "www.example.com"), port3_);
  EXPECT_EQ(Why(ReplyTo(Query(0x1234, "www.example.org")), port3_), ReplyMatch::kOtherQuestion);
  EXPECT_EQ(Why(Query(0x1234, "www.example.com"), port3_), ReplyMatch::kOtherQuestion) << "QR clear: not a reply";
}

TEST_F(ExchangeTableTest, AClosedExchangeMatchesNothing) {
  const std::vector<uint8_t> query = Query(0x1234, "www.example.com");
  Sent(query, port3_);
  ASSERT_TRUE(table_.Close(0x1234).has_value());
  EXPECT_FALSE(table_.Contains(0x1234));
  EXPECT_EQ(Why(ReplyTo(query), port3_), ReplyMatch::kUnknownId) << "a second copy of the reply";
  EXPECT_FALSE(table_.Close(0x1234).has_value());
}

TEST_F(ExchangeTableTest, AStaleSerialCannotEndALaterExchangeUnderTheSameId) {
  const std::vector<uint8_t> query = Query(0x1234, "www.example.com");
  const uint32_t first = Sent(query, port3_).serial;
  ASSERT_TRUE(table_.Close(0x1234, first).has_value());
  const uint32_t second = Sent(query, port3_).serial;
  EXPECT_NE(first, second);
  // The first exchange's deadline comes due: it names an exchange that has ended.
  EXPECT_EQ(table_.Find(0x1234, first), nullptr);
  EXPECT_FALSE(table_.Close(0x1234, first).has_value());
  EXPECT_NE(table_.Find(0x1234, second), nullptr);
  EXPECT_TRUE(table_.Close(0x1234, second).has_value());
}

TEST_F(ExchangeTableTest, ForEachOnVisitsTheExchangesOfOneSocket) {
  Sent(Query(1, "a.example"), port3_);
  Sent(Query(2, "b.example"), {.index = 5, .opening = 1});
  Sent(Query(3, "c.example"), port3_);
  std::vector<uint16_t> ids;
  table_.ForEachOn(3, [&](const ExchangeTable<Tag>::Exchange& e) { ids.push_back(e.id); });
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint16_t>{1, 3}));
}

}  // namespace
}  // namespace meshdns
