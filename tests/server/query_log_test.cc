// The query log line: CoreDNS's default, and a `log` FORMAT read as CoreDNS's
// replacer reads it (plugin/pkg/replacer/replacer_test.go, plugin/log README).
#include "server/query_log.h"

#include <gtest/gtest.h>

#include "dnscore/log_rule.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::Wire;

class QueryLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    query_ = Wire().Header(42107, kFlagRD, 1).Question("Example.org", kTypeA);
    ASSERT_EQ(ParseQuery(query_, view_), QueryCheck::kOk);
    reply_ = Wire().Header(42107, kFlagQR | kFlagRD | kFlagRA, 1, 1).Question("Example.org", kTypeA).A("Example.org", 60);
  }
  std::string Line(absl::string_view format, bool tcp = false) {
    const std::span<const uint8_t> q = query_, r = reply_;
    return FormatQueryLog({.remote = "10.244.0.1", .port = 55325, .query = &view_, .tcp = tcp,
                           .request_size = q.size(), .reply = r, .micros = 126, .format = format});
  }

  Wire query_, reply_;
  QueryView view_;
};

TEST_F(QueryLogTest, TheDefaultLineIsCoreDnsCommonFormat) {
  const std::string want = "10.244.0.1:55325 - 42107 \"A IN example.org. udp 29 false 512\" NOERROR qr,rd,ra 56 0.000126s";
  EXPECT_EQ(Line(""), want);
  EXPECT_EQ(Line(kDefaultLogFormat), want);
  EXPECT_EQ(Line(kCombinedLogFormat), want + " \"0\"");
  EXPECT_EQ(Line("", /*tcp=*/true),
            "10.244.0.1:55325 - 42107 \"A IN example.org. tcp 29 false 65535\" NOERROR qr,rd,ra 56 0.000126s");
}

TEST_F(QueryLogTest, AFormatReplacesWhatItKnowsAndKeepsTheRest) {
  // The README's custom format.
  EXPECT_EQ(Line("{proto} Request: {name} {type} {>id}"), "udp Request: example.org. A 42107");
  // Metadata without the metadata plugin is "-".
  EXPECT_EQ(Line("{proto} Request: {name} {type} {/log/class} {/log/type}"), "udp Request: example.org. A - -");
  // Unknown labels and stray braces stay as written; `}` closes the nearest `{`.
  EXPECT_EQ(Line("{nope} }{{type}} {"), "{nope} }{A} {");
  EXPECT_EQ(Line("{rcode}/{rsize}/{size}/{>bufsize}/{>do}/{>opcode}/{duration}"), "NOERROR/56/29/512/false/0/0.000126s");
}

}  // namespace
}  // namespace meshdns
