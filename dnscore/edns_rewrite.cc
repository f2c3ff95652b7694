#include "dnscore/edns_rewrite.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

// The option codes miekg/dns reads into a type of their own; any other code
// is an EDNS0_LOCAL, which is all a `local` rule looks for.
bool HasOwnType(uint16_t code) {
  return (code >= 1 && code <= 12) || code == 15;
}

std::vector<uint8_t> U16(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v & 0xff)}; }

// Go's net.IP.To4 / To16 for `family` 1 or 2: empty when an IPv6 address has
// no IPv4 form.
std::vector<uint8_t> AddressBytes(const IpAddress& ip, bool v4) {
  if (v4) {
    if (!ip.IsV4()) return {};
    return {ip.bytes.begin() + 12, ip.bytes.end()};
  }
  return {ip.bytes.begin(), ip.bytes.end()};
}

// The data of a variable, or nothing (the rule is then ignored, as CoreDNS's
// ruleData failing).
std::vector<uint8_t> VariableData(Edns0Rule::Variable v, const EdnsRequest& r) {
  using V = Edns0Rule::Variable;
  switch (v) {
    case V::kQname:
      return {r.qname.begin(), r.qname.end()};
    case V::kQtype:
      return U16(r.qtype);
    case V::kClientIp:
      return r.has_client ? AddressBytes(r.client_ip, r.client_ip.IsV4()) : std::vector<uint8_t>();
    case V::kClientPort:
      return r.has_client ? U16(r.client_port) : std::vector<uint8_t>();
    case V::kProtocol:
      return r.has_client && r.tcp ? std::vector<uint8_t>{'t', 'c', 'p'} : std::vector<uint8_t>{'u', 'd', 'p'};
    case V::kServerIp:
      // In the client's family, as CoreDNS writes it.
      return r.has_client ? AddressBytes(r.server_ip, r.client_ip.IsV4()) : std::vector<uint8_t>();
    case V::kServerPort:
      return r.has_client ? U16(r.server_port) : std::vector<uint8_t>();
    case V::kMetadata:
    case V::kNone:
      return {};
  }
  return {};
}

// An ECS option for the client's address cut to the rule's prefix (RFC 7871:
// only the prefix's bytes are sent), or nothing without a client.
std::vector<uint8_t> SubnetData(const Edns0Rule& rule, const EdnsRequest& r) {
  if (!r.has_client) return {};
  const bool v4 = r.client_ip.IsV4();
  const uint8_t bits = v4 ? rule.v4_bits : rule.v6_bits;
  std::vector<uint8_t> address = AddressBytes(r.client_ip, v4);
  address.resize((bits + 7) / 8);
  if (bits % 8 != 0) address.back() &= static_cast<uint8_t>(0xff << (8 - bits % 8));
  std::vector<uint8_t> out = U16(v4 ? 1 : 2);
  out.push_back(bits);
  out.push_back(0);  // scope
  out.insert(out.end(), address.begin(), address.end());
  return out;
}

void Remove(EdnsOptions& options, uint16_t code) {
  options.erase(std::remove_if(options.begin(), options.end(), [code](const EdnsOption& o) { return o.code == code; }),
                options.end());
}

}  // namespace

bool ParseEdnsOptions(std::span<const uint8_t> rdata, EdnsOptions& out) {
  out.clear();
  for (size_t at = 0; at < rdata.size();) {
    const size_t size = rdata.size() - at >= 4 ? ReadU16(&rdata[at + 2]) : SIZE_MAX;
    if (size == SIZE_MAX || rdata.size() - at - 4 < size) {
      out.clear();
      return false;
    }
    out.push_back(EdnsOption{ReadU16(&rdata[at]), std::vector<uint8_t>(rdata.begin() + at + 4, rdata.begin() + at + 4 + size)});
    at += 4 + size;
  }
  return true;
}

void EncodeEdnsOptions(const EdnsOptions& options, std::vector<uint8_t>& out) {
  for (const EdnsOption& o : options) {
    const size_t at = out.size();
    out.resize(at + 4);
    WriteU16(&out[at], o.code);
    WriteU16(&out[at + 2], static_cast<uint16_t>(o.data.size()));
    out.insert(out.end(), o.data.begin(), o.data.end());
  }
}

bool Edns0Rule::Apply(const EdnsRequest& request, EdnsOptions& options) const {
  const uint16_t target = kind == Kind::kNsid ? kEdnsNsid : kind == Kind::kSubnet ? kEdnsSubnet : code;
  if (action == Action::kUnset) {
    Remove(options, target);
    return true;
  }
  const bool overwrite = action == Action::kReplace || action == Action::kSet;
  const bool add = action == Action::kAppend || action == Action::kSet;
  auto found = std::find_if(options.begin(), options.end(), [&](const EdnsOption& o) {
    return o.code == target && (kind != Kind::kLocal || !HasOwnType(o.code));
  });
  switch (kind) {
    case Kind::kNsid:
      if (found != options.end() && overwrite) {
        found->data.clear();
        return true;
      }
      // An append finding one adds another (edns0.go's loop falls through).
      if (!add) return false;
      options.push_back(EdnsOption{kEdnsNsid, {}});
      return true;
    case Kind::kSubnet: {
      std::vector<uint8_t> ecs = SubnetData(*this, request);
      if (found != options.end()) {
        if (!overwrite || ecs.empty()) return false;
        found->data = std::move(ecs);
        return true;
      }
      if (!add || ecs.empty()) return false;
      options.push_back(EdnsOption{kEdnsSubnet, std::move(ecs)});
      return true;
    }
    case Kind::kLocal: {
      if (variable != Variable::kNone) {
        std::vector<uint8_t> value = VariableData(variable, request);
        if (value.empty()) return false;
        if (found != options.end()) {
          if (!overwrite) return false;
          found->data = std::move(value);
          return true;
        }
        if (!add) return false;
        options.push_back(EdnsOption{code, std::move(value)});
        return true;
      }
      if (found != options.end() && overwrite) {
        found->data = data;
        return true;
      }
      if (!add) return false;
      options.push_back(EdnsOption{code, data});
      return true;
    }
  }
  return false;
}

bool ParseEdns0Variable(absl::string_view word, Edns0Rule::Variable& out) {
  using V = Edns0Rule::Variable;
  static const std::pair<const char*, V> kNames[] = {
      {"{qname}", V::kQname},         {"{qtype}", V::kQtype},       {"{client_ip}", V::kClientIp},
      {"{client_port}", V::kClientPort}, {"{protocol}", V::kProtocol}, {"{server_ip}", V::kServerIp},
      {"{server_port}", V::kServerPort}};
  for (const auto& [name, v] : kNames) {
    if (word == name) {
      out = v;
      return true;
    }
  }
  // metadata.IsLabel: NAMESPACE/NAME, neither empty.
  if (!absl::StartsWith(word, "{") || !absl::EndsWith(word, "}")) return false;
  const absl::string_view label = word.substr(1, word.size() - 2);
  const size_t slash = label.find('/');
  if (slash == absl::string_view::npos || slash == 0 || slash >= label.size() - 1) return false;
  out = V::kMetadata;
  return true;
}

}  // namespace meshdns
