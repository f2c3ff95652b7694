#include "dnscore/upstream_query.h"

#include <gtest/gtest.h>

#include <vector>

#include "dnscore/query_view.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

// What meshdns asks a resolver, read back as a server would read it.
QueryView Asked(const UpstreamQuestion& q) {
  std::vector<uint8_t> wire(512);
  wire.resize(WriteUpstreamQuery(0x0a0b, q, wire));
  QueryView view;
  EXPECT_EQ(ParseQuery(wire, view), QueryCheck::kOk);
  return view;
}

TEST(WriteUpstreamQueryTest, AsksForTheUdpSizeMeshdnsSendsItself) {
  const DnsName name = *DnsName::FromText("web.ns.svc.cluster.local.");
  QueryView plain = Asked({.name = name, .qtype = kTypeA, .qclass = kClassIN});
  EXPECT_EQ(plain.header.id, 0x0a0b);
  EXPECT_TRUE(plain.rd());
  ASSERT_TRUE(plain.edns.present);
  EXPECT_EQ(plain.edns.udp_size, kAdvertisedUdpSize) << "1232 unless configured";
  EXPECT_FALSE(plain.edns.dnssec_ok);

  QueryView raised = Asked({.name = name, .qtype = kTypeA, .qclass = kClassIN, .recursion_desired = false,
                            .checking_disabled = true, .dnssec_ok = true, .udp_size = 4096});
  EXPECT_EQ(raised.edns.udp_size, 4096) << "limits.udp_reply_size";
  EXPECT_FALSE(raised.rd());
  EXPECT_TRUE(raised.cd());
  EXPECT_TRUE(raised.edns.dnssec_ok);
}

TEST(WriteUpstreamQueryTest, CarriesTheOptionsRewriteEdns0Made) {
  const DnsName name = *DnsName::FromText("web.example.");
  const std::vector<uint8_t> options = {0xff, 0xee, 0, 2, 'h', 'i'};
  std::vector<uint8_t> wire(kMaxUpstreamQuery);
  wire.resize(WriteUpstreamQuery(7, {.name = name, .qtype = kTypeA, .qclass = kClassIN, .options = options}, wire));
  QueryView view;
  ASSERT_EQ(ParseQuery(wire, view), QueryCheck::kOk);
  const std::span<const uint8_t> sent = view.EdnsOptions(wire);
  EXPECT_EQ(std::vector<uint8_t>(sent.begin(), sent.end()), options);

  // A reply still matches on ID and the question bytes, the OPT being longer now.
  std::vector<uint8_t> reply(wire.begin(), wire.end() - kOptSize - options.size());
  reply[2] |= 0x80;
  WriteU16(&reply[10], 0);
  EXPECT_TRUE(ReplyMatchesQuery(reply, wire));
  reply[reply.size() - 1] ^= 1;  // another class
  EXPECT_FALSE(ReplyMatchesQuery(reply, wire));

  const std::vector<uint8_t> too_many(kMaxUpstreamOptions + 1);
  std::vector<uint8_t> big(kMaxUpstreamQuery + 64);
  EXPECT_EQ(WriteUpstreamQuery(7, {.name = name, .qtype = kTypeA, .qclass = kClassIN, .options = too_many}, big), 0u);
}

}  // namespace
}  // namespace meshdns
