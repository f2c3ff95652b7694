#include "dnscore/wire.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::Wire;

// A 12-byte header of zeros: names below start at offset 12, as in a message.
Wire AfterHeader() { return Wire().Header(0, 0, 0); }

TEST(HeaderTest, ReadsAllFieldsAndNeedsTwelveBytes) {
  Wire w = Wire().Header(0xabcd, kFlagQR | kFlagRD | (2 << 11) | kNxDomain, 1, 2, 3, 4);
  std::optional<Header> h = Header::Read(w);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->id, 0xabcd);
  EXPECT_TRUE(h->qr());
  EXPECT_EQ(h->opcode(), 2);
  EXPECT_EQ(h->rcode(), kNxDomain);
  EXPECT_EQ(h->qdcount, 1);
  EXPECT_EQ(h->ancount, 2);
  EXPECT_EQ(h->nscount, 3);
  EXPECT_EQ(h->arcount, 4);

  EXPECT_FALSE(Header::Read(std::span<const uint8_t>(w.bytes()).first(11)).has_value());

  uint8_t out[kHeaderSize];
  h->Write(out);
  EXPECT_TRUE(std::equal(out, out + kHeaderSize, w.bytes().begin()));
}

TEST(WireReaderTest, FixedWidthReadsAreBoundsChecked) {
  Wire w = Wire().U16(0x0102).U32(0x03040506).U8(7);
  WireReader r(w);
  uint16_t v16 = 0;
  uint32_t v32 = 0;
  ASSERT_TRUE(r.U16(v16));
  ASSERT_TRUE(r.U32(v32));
  EXPECT_EQ(v16, 0x0102);
  EXPECT_EQ(v32, 0x03040506u);
  EXPECT_FALSE(r.U16(v16));  // one byte left
  EXPECT_FALSE(r.U32(v32));
  EXPECT_EQ(r.pos(), 6u);    // failed reads do not move the cursor
  EXPECT_FALSE(r.Skip(2));
  EXPECT_TRUE(r.Skip(1));
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(WireReaderTest, NameReadsUncompressedLabels) {
  Wire w = AfterHeader().Name("www.Example.com").U16(0xffff);
  WireReader r(w, kHeaderSize);
  DnsName name;
  ASSERT_TRUE(r.Name(name));
  EXPECT_EQ(name.ToText(), "www.Example.com.");
  EXPECT_EQ(r.pos(), kHeaderSize + 17);  // 1+3 + 1+7 + 1+3 + root
}

TEST(WireReaderTest, NameFollowsBackwardPointersAndResumesAfterTheFirst) {
  // offset 12: example.com.   offset 25: "www" + pointer to 12, then a marker.
  Wire w = AfterHeader().Name("example.com");
  const size_t www_at = w.size();
  w.Bytes({3, 'w', 'w', 'w'}).Pointer(kHeaderSize);
  const size_t after = w.size();
  // offset after: a pointer to the "www" name, which itself points further back.
  w.Pointer(static_cast<uint16_t>(www_at)).U16(0xbeef);

  WireReader r(w, www_at);
  DnsName name;
  ASSERT_TRUE(r.Name(name));
  EXPECT_EQ(name.ToText(), "www.example.com.");
  EXPECT_EQ(r.pos(), after);  // just past the 2-byte pointer, not where it led

  WireReader chained(w, after);
  ASSERT_TRUE(chained.Name(name));
  EXPECT_EQ(name.ToText(), "www.example.com.");
  EXPECT_EQ(chained.pos(), after + 2);
}

TEST(WireReaderTest, NameRejectsForwardSelfAndLoopingPointers) {
  DnsName name;
  {
    // A pointer to a perfectly good name that lies ahead of it.
    Wire w = AfterHeader().Pointer(kHeaderSize + 2).Name("example.com");
    WireReader r(w, kHeaderSize);
    EXPECT_FALSE(r.Name(name)) << "forward pointer";
  }
  {
    Wire w = AfterHeader().Pointer(kHeaderSize);
    WireReader r(w, kHeaderSize);
    EXPECT_FALSE(r.Name(name)) << "pointer to itself";
  }
  {
    // offset 12: "a" then a pointer to offset 16; offset 16: pointer back to 12.
    // The first jump goes forward, so a reader starting at 16 sees 16 -> 12 -> 16.
    Wire w = AfterHeader().Bytes({1, 'a'}).Pointer(16).Pointer(kHeaderSize);
    WireReader from_start(w, kHeaderSize);
    EXPECT_FALSE(from_start.Name(name)) << "loop entered at 12";
    WireReader from_middle(w, 16);
    EXPECT_FALSE(from_middle.Name(name)) << "loop entered at 16";
  }
  {
    Wire w = AfterHeader().Bytes({1, 'a'}).Pointer(kHeaderSize + 1);
    WireReader r(w, kHeaderSize);
    EXPECT_FALSE(r.Name(name)) << "pointer into its own label";
  }
  {
    Wire w = AfterHeader().Pointer(0x3fff);
    WireReader r(w, kHeaderSize);
    EXPECT_FALSE(r.Name(name)) << "pointer past the end";
  }
}

TEST(WireReaderTest, NameRejectsTruncationAndReservedLabelTypes) {
  DnsName name;
  const struct {
    Wire wire;
    const char* why;
  } cases[] = {
      {AfterHeader().Bytes({3, 'w', 'w'}), "label cut short"},
      {AfterHeader().Bytes({3, 'w', 'w', 'w'}), "no root label"},
      {AfterHeader().U8(0xc0), "half a pointer"},
      {AfterHeader().Bytes({0x40, 0}), "0x40 label type"},
      {AfterHeader().Bytes({0x80, 0}), "0x80 label type"},
  };
  for (const auto& c : cases) {
    WireReader r(c.wire, kHeaderSize);
    EXPECT_FALSE(r.Name(name)) << c.why;
    WireReader s(c.wire, kHeaderSize);
    EXPECT_FALSE(s.SkipName()) << c.why;
  }
}

TEST(WireReaderTest, NameRejectsNamesLongerThan255BytesBuiltFromPointers) {
  // Five 63-byte labels chained by backward pointers: 321 bytes once expanded,
  // although every single hop is legal.
  const std::string label(63, 'x');
  Wire w = AfterHeader();
  size_t previous = 0;
  for (int i = 0; i < 5; ++i) {
    const size_t at = w.size();
    w.U8(63).Bytes(std::span(reinterpret_cast<const uint8_t*>(label.data()), label.size()));
    if (i == 0) w.U8(0);
    else w.Pointer(static_cast<uint16_t>(previous));
    previous = at;
  }
  WireReader r(w, previous);
  DnsName name;
  EXPECT_FALSE(r.Name(name));
}

TEST(WireReaderTest, UncompressedNameRefusesPointers) {
  Wire w = AfterHeader().Name("example.com").Bytes({3, 'w', 'w', 'w'}).Pointer(kHeaderSize);
  DnsName name;
  WireReader plain(w, kHeaderSize);
  ASSERT_TRUE(plain.UncompressedName(name));
  EXPECT_EQ(name.ToText(), "example.com.");
  WireReader compressed(w, kHeaderSize + 13);
  EXPECT_FALSE(compressed.UncompressedName(name));
}

TEST(WireReaderTest, SkipNameStepsOverLabelsOrOnePointer) {
  Wire w = AfterHeader().Name("example.com").Bytes({3, 'w', 'w', 'w'}).Pointer(kHeaderSize).U8(0xaa);
  WireReader r(w, kHeaderSize);
  ASSERT_TRUE(r.SkipName());
  EXPECT_EQ(r.pos(), kHeaderSize + 13);
  ASSERT_TRUE(r.SkipName());
  EXPECT_EQ(r.pos(), kHeaderSize + 13 + 6);  // "www" label plus the 2-byte pointer
}

TEST(ReadRrFixedTest, RecordsWhereTtlAndRdataSit) {
  Wire w = AfterHeader().A("a.example", 300, {10, 0, 0, 1});
  WireReader r(w, kHeaderSize);
  ASSERT_TRUE(r.SkipName());
  const size_t fixed_at = r.pos();
  RrFixed rr;
  ASSERT_TRUE(ReadRrFixed(r, rr));
  EXPECT_EQ(rr.type, kTypeA);
  EXPECT_EQ(rr.rclass, kClassIN);
  EXPECT_EQ(rr.ttl, 300u);
  EXPECT_EQ(rr.rdlength, 4);
  EXPECT_EQ(rr.ttl_offset, fixed_at + 4);
  EXPECT_EQ(rr.rdata_offset, fixed_at + 10);
  EXPECT_EQ(ReadU32(&w.bytes()[rr.ttl_offset]), 300u);
  EXPECT_EQ(w.bytes()[rr.rdata_offset], 10);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ReadRrFixedTest, RdataLongerThanTheMessageFails) {
  Wire w = AfterHeader().Name("a").U16(kTypeA).U16(kClassIN).U32(1).U16(5).Bytes({1, 2, 3, 4});
  WireReader r(w, kHeaderSize);
  ASSERT_TRUE(r.SkipName());
  RrFixed rr;
  EXPECT_FALSE(ReadRrFixed(r, rr));
}

}  // namespace
}  // namespace meshdns
