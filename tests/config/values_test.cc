#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "config/config.h"

namespace meshdns {
namespace {

TEST(ParseDurationTest, GoStyleDurations) {
  const struct {
    const char* text;
    Millis want;
  } cases[] = {
      {"0", 0},        {"0s", 0},          {"500ms", 500},  {"2s", 2000},      {"1m", 60000},
      {"1m30s", 90000}, {"1h", 3600000},   {"1.5s", 1500},  {"2h1m1s", 7261000}, {"1500us", 1},
      {"2000000ns", 2}, {"10s500ms", 10500},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Millis> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status();
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(ParseDurationTest, RejectsWhatIsNotADuration) {
  // The last two found by fuzz/yaml_fuzzer: converting them to milliseconds overflowed.
  for (const char* text : {"", "5", "2x", "s", "ms", "2 s", "-1s", "1.2.3s", "1d", "2S", "fast", "1s2",
                           "100001h", "99999999999999999999999h"}) {
    EXPECT_FALSE(ParseDuration(text).ok()) << "'" << text << "'";
  }
}

TEST(SocketAddressTest, ParsesHostsWithAndWithoutPorts) {
  const struct {
    const char* text;
    bool v6;
    uint16_t port;
    const char* printed;
  } cases[] = {
      {"1.2.3.4", false, 53, "1.2.3.4:53"},
      {"1.2.3.4:30053", false, 30053, "1.2.3.4:30053"},
      {"[::1]:53", true, 53, "[::1]:53"},
      {"[::1]:5353", true, 5353, "[::1]:5353"},
      {"::1", true, 53, "[::1]:53"},
      {"[::1]", true, 53, "[::1]:53"},
      {"2001:db8::1", true, 53, "[2001:db8::1]:53"},
      {"0.0.0.0:65535", false, 65535, "0.0.0.0:65535"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<SocketAddress> a = SocketAddress::Parse(c.text);
    ASSERT_TRUE(a.ok()) << c.text << ": " << a.status();
    EXPECT_EQ(a->v6, c.v6) << c.text;
    EXPECT_EQ(a->port, c.port) << c.text;
    EXPECT_EQ(a->ToString(), c.printed) << c.text;
  }
  EXPECT_EQ(SocketAddress::Parse("1.2.3.4")->HostString(), "1.2.3.4");
  EXPECT_EQ(SocketAddress::Parse("1.2.3.4")->ip.bytes, IpAddress::FromV4({1, 2, 3, 4}).bytes);
}

TEST(SocketAddressTest, DefaultPortIsUsedOnlyWithoutAPort) {
  EXPECT_EQ(SocketAddress::Parse("10.0.0.1", 30053)->port, 30053);
  EXPECT_EQ(SocketAddress::Parse("::1", 30053)->port, 30053);
  EXPECT_EQ(SocketAddress::Parse("10.0.0.1:99", 30053)->port, 99);
}

TEST(SocketAddressTest, RejectsBadHostsAndPorts) {
  for (const char* text : {"", "localhost", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:x", "1.2.3.4:53x",
                           "[::1]x", "[::1", "[::1]:", "[::1]:0", "[1.2.3.4]:53x", "1.2.3:53", "1.2.3.4.5"}) {
    EXPECT_FALSE(SocketAddress::Parse(text).ok()) << "'" << text << "'";
  }
}

class ReadResolvConfTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_ = ::testing::TempDir() + "/values_test_resolv.conf";
};

TEST_F(ReadResolvConfTest, ReadsEveryNameserverLine) {
  absl::StatusOr<std::vector<SocketAddress>> servers = ReadResolvConf(Write(
      "# generated\n"
      "search svc.cluster.local cluster.local\n"
      "nameserver 10.96.0.10\n"
      "nameserver\t2001:db8::53\n"
      "options ndots:5\n"
      "nameserver fe80::1%eth0\n"
      "nameserver not-an-address\n"));
  ASSERT_TRUE(servers.ok()) << servers.status();
  ASSERT_EQ(servers->size(), 3u);
  EXPECT_EQ((*servers)[0].ToString(), "10.96.0.10:53");
  EXPECT_EQ((*servers)[1].ToString(), "[2001:db8::53]:53");
  EXPECT_EQ((*servers)[2].ToString(), "[fe80::1]:53") << "zone index dropped";
}

TEST_F(ReadResolvConfTest, FailsWithoutNameservers) {
  EXPECT_TRUE(absl::IsFailedPrecondition(ReadResolvConf(Write("search example.com\n")).status()))
      << "readable, without nameservers: forward skips it when other upstreams remain";
  EXPECT_TRUE(absl::IsNotFound(ReadResolvConf("/nonexistent/resolv.conf").status()));
}

// A Corefile's forward and the YAML's upstream take any file name, and a
// device never ends: only regular files are read.
TEST_F(ReadResolvConfTest, RefusesWhatIsNotARegularFile) {
  EXPECT_FALSE(ReadResolvConf("/dev/zero").ok());
  EXPECT_FALSE(ReadResolvConf("/").ok());
}

}  // namespace
}  // namespace meshdns
