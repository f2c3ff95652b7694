#include "dnscore/dns_name.h"

#include <cctype>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace meshdns {

absl::StatusOr<DnsName> DnsName::FromText(absl::string_view text) {
  DnsName name;
  if (text.empty()) return absl::InvalidArgumentError("empty domain name");
  if (text == ".") return name;
  std::array<uint8_t, kMaxLabelSize + 1> label;
  size_t len = 0;
  bool label_too_long = false;
  auto flush = [&]() -> absl::Status {
    if (label_too_long) return absl::InvalidArgumentError(absl::StrCat("label longer than 63 bytes in '", text, "'"));
    if (len == 0) return absl::InvalidArgumentError(absl::StrCat("empty label in '", text, "'"));
    if (!name.AppendLabel(std::span<const uint8_t>(label.data(), len))) {
      return absl::InvalidArgumentError(absl::StrCat("name longer than 255 bytes: '", text, "'"));
    }
    len = 0;
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(text[i]);
    if (c == '.') {
      if (absl::Status s = flush(); !s.ok()) return s;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return absl::InvalidArgumentError(absl::StrCat("dangling escape in '", text, "'"));
      if (i + 3 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])) &&
          std::isdigit(static_cast<unsigned char>(text[i + 2])) && std::isdigit(static_cast<unsigned char>(text[i + 3]))) {
        int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255) return absl::InvalidArgumentError(absl::StrCat("bad escape in '", text, "'"));
        c = static_cast<uint8_t>(v);
        i += 3;
      } else {
        c = static_cast<uint8_t>(text[++i]);
      }
    }
    if (len == kMaxLabelSize) {
      label_too_long = true;
      continue;
    }
    label[len++] = c;
  }
  if (len > 0 || label_too_long) {
    if (absl::Status s = flush(); !s.ok()) return s;
  }
  return name;
}

bool DnsName::AppendLabel(std::span<const uint8_t> label) {
  if (label.empty() || label.size() > kMaxLabelSize) return false;
  if (size_ + label.size() + 1 > kMaxWireSize || label_count_ == kMaxLabels) return false;
  uint8_t at = size_ - 1;  // overwrite the root byte
  label_offsets_[label_count_++] = at;
  wire_[at] = static_cast<uint8_t>(label.size());
  std::memcpy(&wire_[at + 1], label.data(), label.size());
  size_ = static_cast<uint8_t>(at + 1 + label.size() + 1);
  wire_[size_ - 1] = 0;
  return true;
}

bool DnsName::AppendLabel(absl::string_view label) {
  return AppendLabel(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(label.data()), label.size()));
}

absl::string_view DnsName::Label(size_t i) const {
  uint8_t at = label_offsets_[i];
  return {reinterpret_cast<const char*>(&wire_[at + 1]), wire_[at]};
}

bool DnsName::Equals(const DnsName& other) const {
  if (size_ != other.size_) return false;
  for (size_t i = 0; i < size_; ++i) {
    if (AsciiLower(wire_[i]) != AsciiLower(other.wire_[i])) return false;
  }
  return true;
}

bool DnsName::IsSubdomainOf(const DnsName& zone) const {
  if (zone.label_count_ > label_count_) return false;
  size_t first = label_count_ - zone.label_count_;
  size_t at = first == label_count_ ? size_ - 1 : label_offsets_[first];
  if (size_ - at != zone.size_) return false;
  for (size_t i = 0; i < zone.size_; ++i) {
    if (AsciiLower(wire_[at + i]) != AsciiLower(zone.wire_[i])) return false;
  }
  return true;
}

DnsName DnsName::Suffix(size_t first) const {
  DnsName out;
  for (size_t i = first; i < label_count_; ++i) {
    absl::string_view l = Label(i);
    (void)out.AppendLabel(l);
  }
  return out;
}

bool DnsName::ReplaceSuffix(size_t count, const DnsName& tail, DnsName& out) const {
  DnsName result;
  for (size_t i = 0; i < count && i < label_count_; ++i) {
    if (!result.AppendLabel(Label(i))) return false;
  }
  for (size_t i = 0; i < tail.label_count_; ++i) {
    if (!result.AppendLabel(tail.Label(i))) return false;
  }
  out = result;
  return true;
}

void DnsName::WriteLowerWire(uint8_t* out) const {
  for (size_t i = 0; i < size_; ++i) out[i] = AsciiLower(wire_[i]);
}

DnsName DnsName::Lowered() const {
  DnsName out = *this;
  WriteLowerWire(out.wire_.data());
  return out;
}

std::string DnsName::ToText() const {
  if (label_count_ == 0) return ".";
  std::string out;
  out.reserve(size_);
  for (size_t i = 0; i < label_count_; ++i) {
    for (char c : Label(i)) {
      auto u = static_cast<unsigned char>(c);
      if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' || c == '$') {
        out.push_back('\\');
        out.push_back(c);
      } else if (u <= 0x20 || u >= 0x7f) {
        char buf[5];
        std::snprintf(buf, sizeof(buf), "\\%03u", u);
        out.append(buf);
      } else {
        out.push_back(c);
      }
    }
    out.push_back('.');
  }
  return out;
}

}  // namespace meshdns
