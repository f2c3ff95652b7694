#include "dnscore/builtin_answers.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "dnscore/message_writer.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

enum class Section { kAnswer, kAuthority, kAdditional };

// One reply written front to back: the question, then records section by
// section (callers add them in section order).
class ReplyBuilder {
 public:
  ReplyBuilder(const DnsName& qname, uint16_t qtype, uint16_t qclass, uint16_t flags, uint8_t rcode)
      : writer_(wire_) {
    wire_.resize(kHeaderSize);
    Header h;
    h.flags = static_cast<uint16_t>(kFlagQR | flags | rcode);
    h.qdcount = 1;
    h.Write(wire_.data());
    writer_.Name(qname, /*compress=*/true);
    writer_.U16(qtype);
    writer_.U16(qclass);
  }

  // `rdata` writes the record's data; its length is filled in after.
  void Record(Section section, const DnsName& owner, uint16_t type, uint16_t rclass, uint32_t ttl,
              const std::function<void(MessageWriter&)>& rdata) {
    writer_.Name(owner, /*compress=*/true);
    writer_.U16(type);
    writer_.U16(rclass);
    writer_.U32(ttl);
    const size_t length_at = writer_.size();
    writer_.U16(0);
    rdata(writer_);
    WriteU16(writer_.at(length_at), static_cast<uint16_t>(writer_.size() - length_at - 2));
    ++counts_[static_cast<int>(section)];
  }

  std::vector<uint8_t> Done() {
    WriteU16(&wire_[6], counts_[0]);
    WriteU16(&wire_[8], counts_[1]);
    WriteU16(&wire_[10], counts_[2]);
    return std::move(wire_);
  }

 private:
  std::vector<uint8_t> wire_;
  MessageWriter writer_;
  uint16_t counts_[3] = {0, 0, 0};
};

// A <character-string> (RFC 1035 3.3): at most 255 bytes, as CoreDNS trims them.
void CharacterString(MessageWriter& w, absl::string_view text) {
  const size_t n = std::min<size_t>(text.size(), 255);
  w.Bytes(std::span<const uint8_t>({static_cast<uint8_t>(n)}));
  w.Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), n));
}

std::string Trimmed(std::string s) {
  if (s.size() > 255) s.resize(255);
  return s;
}

DnsName Known(absl::string_view text) { return *DnsName::FromText(text); }

bool LabelIs(const DnsName& name, size_t i, absl::string_view label) {
  return absl::EqualsIgnoreCase(name.Label(i), label);
}

// The local zone holding `qname`, as labels counted from the right (1 for
// localhost., 3 for the reverse zones); 0 when none does.
size_t LocalZoneLabels(const DnsName& qname) {
  const size_t n = qname.LabelCount();
  if (n >= 1 && LabelIs(qname, n - 1, "localhost")) return 1;
  if (n >= 3 && LabelIs(qname, n - 1, "arpa") && LabelIs(qname, n - 2, "in-addr") &&
      (LabelIs(qname, n - 3, "0") || LabelIs(qname, n - 3, "127") || LabelIs(qname, n - 3, "255"))) {
    return 3;
  }
  return 0;
}

void LocalSoa(ReplyBuilder& reply, Section section, const DnsName& owner) {
  reply.Record(section, owner, kTypeSOA, kClassIN, LocalZones::kTtl, [](MessageWriter& w) {
    w.Name(Known("localhost."), true);
    w.Name(Known("root.localhost."), true);
    w.U32(1);  // serial
    w.U32(0);  // refresh
    w.U32(0);  // retry
    w.U32(0);  // expire
    w.U32(LocalZones::kTtl);
  });
}

void Loopback(ReplyBuilder& reply, const DnsName& owner, uint16_t qtype) {
  if (qtype == kTypeA) {
    reply.Record(Section::kAnswer, owner, kTypeA, kClassIN, LocalZones::kTtl,
                 [](MessageWriter& w) { w.Bytes(std::span<const uint8_t>({127, 0, 0, 1})); });
  } else {
    reply.Record(Section::kAnswer, owner, kTypeAAAA, kClassIN, LocalZones::kTtl, [](MessageWriter& w) {
      std::array<uint8_t, 16> one{};
      one[15] = 1;
      w.Bytes(one);
    });
  }
}

}  // namespace

bool LocalZones::Holds(const DnsName& qname) const {
  const size_t n = qname.LabelCount();
  if (n >= 2 && (LabelIs(qname, n - 1, "localhost") || (localhost_prefix_ && LabelIs(qname, 0, "localhost")))) {
    return true;
  }
  return LocalZoneLabels(qname) != 0;
}

ReplyWire LocalZones::Answer(const DnsName& qname, uint16_t qtype, uint16_t qclass) const {
  const size_t n = qname.LabelCount();
  // Names below localhost. (RFC 6761 6.3) and, by default, the legacy
  // localhost.<domain>: loopback addresses, and NODATA with an SOA owned by
  // the name itself for other types (as CoreDNS writes it).
  if (n >= 2 && (LabelIs(qname, n - 1, "localhost") || (localhost_prefix_ && LabelIs(qname, 0, "localhost")))) {
    ReplyBuilder reply(qname, qtype, qclass, 0, kNoError);
    if (qtype == kTypeA || qtype == kTypeAAAA) {
      Loopback(reply, qname, qtype);
    } else {
      LocalSoa(reply, Section::kAuthority, qname);
    }
    return reply.Done();
  }
  const size_t zone_labels = LocalZoneLabels(qname);
  if (zone_labels == 0) return absl::InvalidArgumentError("not a local name");
  const DnsName zone = qname.Suffix(n - zone_labels);  // in the client's case
  if (n == zone_labels) {  // a zone's apex
    const bool localhost = zone_labels == 1;
    ReplyBuilder reply(qname, qtype, qclass, 0, kNoError);
    if ((qtype == kTypeA || qtype == kTypeAAAA) && localhost) {
      Loopback(reply, qname, qtype);
    } else if (qtype == kTypeSOA) {
      LocalSoa(reply, Section::kAnswer, qname);
    } else if (qtype == kTypeNS) {
      reply.Record(Section::kAnswer, qname, kTypeNS, kClassIN, kTtl,
                   [](MessageWriter& w) { w.Name(Known("localhost."), true); });
    } else {
      LocalSoa(reply, Section::kAuthority, qname);
    }
    return reply.Done();
  }
  if (n == 6 && LabelIs(qname, 0, "1") && LabelIs(qname, 1, "0") && LabelIs(qname, 2, "0") &&
      LabelIs(qname, 3, "127")) {
    ReplyBuilder reply(qname, qtype, qclass, 0, kNoError);
    if (qtype == kTypePTR) {
      reply.Record(Section::kAnswer, qname, kTypePTR, kClassIN, kTtl,
                   [](MessageWriter& w) { w.Name(Known("localhost."), true); });
    } else {
      LocalSoa(reply, Section::kAuthority, zone);
    }
    return reply.Done();
  }
  ReplyBuilder reply(qname, qtype, qclass, 0, kNxDomain);
  LocalSoa(reply, Section::kAuthority, zone);
  return reply.Done();
}

ReplyWire AnyAnswer(const DnsName& qname, uint16_t qclass) {
  ReplyBuilder reply(qname, kTypeANY, qclass, 0, kNoError);
  reply.Record(Section::kAnswer, qname, kTypeHINFO, kClassIN, kAnyTtl, [](MessageWriter& w) {
    CharacterString(w, "ANY obsoleted");
    CharacterString(w, "See RFC 8482");
  });
  return reply.Done();
}

ChaosAnswers::ChaosAnswers(std::string version, std::vector<std::string> authors, std::string hostname)
    : version_(Trimmed(std::move(version))), hostname_(Trimmed(std::move(hostname))) {
  for (std::string& a : authors) authors_.push_back(Trimmed(std::move(a)));
}

namespace {

enum class ChaosName { kNone, kVersion, kAuthors, kHostname };

ChaosName ChaosNameOf(const DnsName& qname) {
  if (qname.LabelCount() != 2) return ChaosName::kNone;
  const absl::string_view first = qname.Label(0);
  if (LabelIs(qname, 1, "bind")) {
    if (absl::EqualsIgnoreCase(first, "version")) return ChaosName::kVersion;
    if (absl::EqualsIgnoreCase(first, "authors")) return ChaosName::kAuthors;
    if (absl::EqualsIgnoreCase(first, "hostname")) return ChaosName::kHostname;
  } else if (LabelIs(qname, 1, "server")) {
    if (absl::EqualsIgnoreCase(first, "version")) return ChaosName::kVersion;
    if (absl::EqualsIgnoreCase(first, "id")) return ChaosName::kHostname;
  }
  return ChaosName::kNone;
}

}  // namespace

bool ChaosAnswers::Holds(const DnsName& qname, uint16_t qtype, uint16_t qclass) const {
  return qclass == kClassCH && qtype == kTypeTXT && ChaosNameOf(qname) != ChaosName::kNone;
}

ReplyWire ChaosAnswers::Answer(const DnsName& qname, uint16_t qclass, uint64_t shuffle) const {
  ReplyBuilder reply(qname, kTypeTXT, qclass, 0, kNoError);
  auto txt = [&](absl::string_view text) {
    reply.Record(Section::kAnswer, qname, kTypeTXT, kClassCH, 0, [&](MessageWriter& w) { CharacterString(w, text); });
  };
  switch (ChaosNameOf(qname)) {
    case ChaosName::kNone: return absl::InvalidArgumentError("not a chaos name");
    case ChaosName::kVersion: txt(version_); break;
    case ChaosName::kHostname: txt(hostname_); break;
    case ChaosName::kAuthors: {
      std::vector<size_t> order(authors_.size());
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), std::mt19937_64(shuffle));
      for (size_t i : order) txt(authors_[i]);
      break;
    }
  }
  return reply.Done();
}

ReplyWire WhoamiAnswer(const DnsName& qname, uint16_t qtype, uint16_t qclass, const ClientAddress& client) {
  DnsName proto, srv;
  if (!proto.AppendLabel(client.tcp ? "_tcp" : "_udp") || !proto.ReplaceSuffix(1, qname, srv)) {
    return absl::InvalidArgumentError("whoami: the name is too long for its SRV record");
  }
  ReplyBuilder reply(qname, qtype, qclass, kFlagAA, kNoError);
  if (client.ip.IsV4()) {
    reply.Record(Section::kAdditional, qname, kTypeA, qclass, 0,
                 [&](MessageWriter& w) { w.Bytes(std::span<const uint8_t>(client.ip.bytes).subspan(12)); });
  } else {
    reply.Record(Section::kAdditional, qname, kTypeAAAA, qclass, 0,
                 [&](MessageWriter& w) { w.Bytes(client.ip.bytes); });
  }
  reply.Record(Section::kAdditional, srv, kTypeSRV, qclass, 0, [&](MessageWriter& w) {
    w.U16(0);  // priority
    w.U16(0);  // weight
    w.U16(client.port);
    w.Name(DnsName(), /*compress=*/false);  // RFC 2782: no compression
  });
  return reply.Done();
}

bool BuiltinAnswers::AnswersFirst(const DnsName& qname, uint16_t qtype, uint16_t qclass) const {
  return (local && local->Holds(qname)) || (any && qtype == kTypeANY) || (chaos && chaos->Holds(qname, qtype, qclass));
}

ReplyWire BuiltinAnswers::AnswerFirst(const DnsName& qname, uint16_t qtype, uint16_t qclass, uint64_t shuffle) const {
  if (local && local->Holds(qname)) return local->Answer(qname, qtype, qclass);
  if (any && qtype == kTypeANY) return AnyAnswer(qname, qclass);
  if (chaos && chaos->Holds(qname, qtype, qclass)) return chaos->Answer(qname, qclass, shuffle);
  return absl::InvalidArgumentError("no built-in answer for the question");
}

}  // namespace meshdns
