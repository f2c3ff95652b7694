#include "dnscore/message_writer.h"

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace meshdns {
namespace {

constexpr size_t kMaxPointerTarget = 0x3fff;

uint64_t HashOf(std::span<const uint8_t> bytes) {
  return absl::Hash<absl::string_view>{}(absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

bool MessageWriter::SameNameAt(size_t offset, std::span<const uint8_t> suffix) const {
  // Walk the written name (which may itself end in a pointer) label by label.
  size_t at = offset;
  size_t i = 0;
  for (int hops = 0; hops < 128; ) {
    if (at >= out_.size() || i >= suffix.size()) return false;
    const uint8_t len = out_[at];
    if ((len & 0xc0) == 0xc0) {
      at = static_cast<size_t>(len & 0x3f) << 8 | out_[at + 1];
      ++hops;
      continue;
    }
    if (len != suffix[i]) return false;
    if (len == 0) return i + 1 == suffix.size();
    if (at + 1 + len > out_.size() || !std::equal(out_.begin() + at + 1, out_.begin() + at + 1 + len,
                                                  suffix.begin() + i + 1)) {
      return false;
    }
    at += 1 + len;
    i += 1 + len;
  }
  return false;
}

void MessageWriter::Name(const DnsName& name, bool compress) {
  const std::span<const uint8_t> wire = name.Wire();
  const size_t labels = name.LabelCount();
  // Offsets of each label within `wire`.
  std::array<uint8_t, DnsName::kMaxLabels + 1> starts;
  for (size_t i = 0, at = 0; i < labels; ++i) {
    starts[i] = static_cast<uint8_t>(at);
    at += 1 + wire[at];
  }
  size_t literal = labels;  // labels written out before the pointer (all: no pointer)
  uint16_t pointer = 0;
  if (compress) {
    for (size_t i = 0; i < labels && literal == labels; ++i) {
      const std::span<const uint8_t> suffix = wire.subspan(starts[i]);
      const uint64_t h = HashOf(suffix);
      for (size_t t = 0; t < target_count_; ++t) {
        if (targets_[t].hash == h && SameNameAt(targets_[t].offset, suffix)) {
          literal = i;
          pointer = targets_[t].offset;
          break;
        }
      }
    }
  }
  const size_t base = out_.size();
  for (size_t i = 0; i < literal; ++i) {
    if (base + starts[i] <= kMaxPointerTarget && target_count_ < kMaxTargets) {
      targets_[target_count_++] = Target{static_cast<uint16_t>(base + starts[i]), HashOf(wire.subspan(starts[i]))};
    }
  }
  if (literal == labels) {
    Bytes(wire);
    return;
  }
  Bytes(wire.subspan(0, starts[literal]));
  U16(static_cast<uint16_t>(0xc000 | pointer));
}

}  // namespace meshdns
