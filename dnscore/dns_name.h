// DnsName: a domain name in wire form held in inline storage, so names can be
// parsed, compared and cut on the query path without touching the heap.
// The case of the input is preserved; every comparison ignores ASCII case and
// works on whole labels. Value type, no shared state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace meshdns {

class DnsName {
 public:
  static constexpr size_t kMaxWireSize = 255;
  static constexpr size_t kMaxLabelSize = 63;
  static constexpr size_t kMaxLabels = 127;

  // The root name ".".
  DnsName() = default;

  // Parses presentation format ("a.b.c", "a.b.c." and "." are all accepted;
  // a name is always taken as absolute). Understands \. and \DDD escapes.
  static absl::StatusOr<DnsName> FromText(absl::string_view text);

  // Appends a label in front of the root. Returns false, leaving the name
  // untouched, when the label is empty or the name would grow too long.
  [[nodiscard]] bool AppendLabel(std::span<const uint8_t> label);
  [[nodiscard]] bool AppendLabel(absl::string_view label);

  size_t LabelCount() const { return label_count_; }
  // Label i counted from the left, without its length byte.
  absl::string_view Label(size_t i) const;
  std::span<const uint8_t> Wire() const { return {wire_.data(), size_}; }
  size_t WireSize() const { return size_; }
  bool IsRoot() const { return label_count_ == 0; }

  bool Equals(const DnsName& other) const;  // ASCII case-insensitive
  // True when this name is `zone` or lies below it.
  bool IsSubdomainOf(const DnsName& zone) const;
  // The name made of labels [first, LabelCount()) — a parent of this name.
  DnsName Suffix(size_t first) const;
  // The first `count` labels of this name followed by all labels of `tail`.
  // Fails when the result would be longer than a name may be.
  [[nodiscard]] bool ReplaceSuffix(size_t count, const DnsName& tail, DnsName& out) const;

  // Writes the wire form with ASCII upper case folded to lower case.
  void WriteLowerWire(uint8_t* out) const;
  DnsName Lowered() const;
  // Presentation format, absolute, with a trailing dot; "." for the root.
  std::string ToText() const;

 private:
  std::array<uint8_t, kMaxWireSize> wire_{0};
  std::array<uint8_t, kMaxLabels> label_offsets_{};
  uint8_t size_ = 1;
  uint8_t label_count_ = 0;
};

inline uint8_t AsciiLower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

}  // namespace meshdns
