#include "dnscore/hosts_table.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

// in-addr.arpa / ip6.arpa name of an address, or "" if `ip` is not one. An
// IPv4-mapped IPv6 address (::ffff:10.0.0.2) is the IPv4 address, as Go's
// net.ParseIP makes it for CoreDNS's hosts plugin: `ip` becomes its dotted form.
std::string ReverseName(std::string& ip, bool& v6) {
  uint8_t bytes[16];
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    v6 = false;
    return absl::StrCat(bytes[3], ".", bytes[2], ".", bytes[1], ".", bytes[0], ".in-addr.arpa.");
  }
  if (inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, bytes)) {
      v6 = false;
      ip = absl::StrCat(bytes[12], ".", bytes[13], ".", bytes[14], ".", bytes[15]);
      return absl::StrCat(bytes[15], ".", bytes[14], ".", bytes[13], ".", bytes[12], ".in-addr.arpa.");
    }
    v6 = true;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 15; i >= 0; --i) {
      out.push_back(kHex[bytes[i] & 0xf]);
      out.push_back('.');
      out.push_back(kHex[bytes[i] >> 4]);
      out.push_back('.');
    }
    return out + "ip6.arpa.";
  }
  return "";
}

}  // namespace

HostsTable::HostsTable(HostsOptions options, const std::vector<HostsEntry>& entries) : options_(std::move(options)) {
  for (const HostsEntry& e : entries) {
    bool v6 = false;
    std::string ip = e.ip;
    const std::string reverse = ReverseName(ip, v6);
    if (reverse.empty()) continue;
    for (const DnsName& name : e.names) {
      const std::string text = name.Lowered().ToText();
      Addresses& a = forward_[text];
      (v6 ? a.v6 : a.v4).push_back(ip);
      if (!options_.no_reverse) reverse_[reverse].push_back(text);
    }
  }
}

std::vector<HostsEntry> HostsTable::ParseFile(absl::string_view text) {
  std::vector<HostsEntry> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.size() < 2) continue;
    HostsEntry e{std::string(fields[0]), {}};
    for (size_t i = 1; i < fields.size(); ++i) {
      if (absl::StatusOr<DnsName> n = DnsName::FromText(fields[i]); n.ok()) e.names.push_back(*n);
    }
    out.push_back(std::move(e));
  }
  return out;
}

bool HostsTable::FallsThrough(const DnsName& qname) const {
  if (!options_.fallthrough) return false;
  if (options_.fallthrough->empty()) return true;
  for (const DnsName& z : *options_.fallthrough) {
    if (qname.IsSubdomainOf(z)) return true;
  }
  return false;
}

HostsOutcome HostsTable::Lookup(const DnsName& qname, uint16_t qtype) const {
  HostsOutcome out;
  bool in_zone = false;
  for (const DnsName& z : options_.zones) in_zone = in_zone || qname.IsSubdomainOf(z);
  // Reverse names need not be in the block's zones: PTR answers come from the entries.
  if (!in_zone && qtype != kTypePTR) return out;
  const std::string name = qname.Lowered().ToText();
  const std::string ttl = absl::StrCat(" ", options_.ttl, " IN ");
  if (qtype == kTypePTR) {
    auto it = reverse_.find(name);
    if (it == reverse_.end()) return out;  // CoreDNS passes these on whatever fallthrough says
    for (const std::string& target : it->second) {
      if (absl::StatusOr<RrPtr> rr = ParseRecord(absl::StrCat(name, ttl, "PTR ", target)); rr.ok()) {
        out.answer.push_back(*std::move(rr));
      }
    }
    out.kind = HostsOutcome::Kind::kAnswer;
    return out;
  }
  auto it = forward_.find(name);
  if (it == forward_.end()) {
    out.kind = FallsThrough(qname) ? HostsOutcome::Kind::kNext : HostsOutcome::Kind::kServFail;
    return out;
  }
  const std::vector<std::string>* ips = qtype == kTypeA ? &it->second.v4 : qtype == kTypeAAAA ? &it->second.v6 : nullptr;
  if (ips) {
    for (const std::string& ip : *ips) {
      if (absl::StatusOr<RrPtr> rr = ParseRecord(absl::StrCat(name, ttl, qtype == kTypeA ? "A " : "AAAA ", ip));
          rr.ok()) {
        out.answer.push_back(*std::move(rr));
      }
    }
  }
  out.kind = HostsOutcome::Kind::kAnswer;  // the name exists: NODATA for other types
  return out;
}

}  // namespace meshdns
