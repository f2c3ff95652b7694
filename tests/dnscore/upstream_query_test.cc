#include "dnscore/upstream_query.h"

#include <gtest/gtest.h>

#include <vector>

#include "dnscore/query_view.h"

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

}  // namespace
}  // namespace meshdns
