#include "tests/dnscore/fake_network.h"

#include <array>

#include "dnscore/wire.h"

namespace meshdns::testing {
namespace {

constexpr std::array<absl::string_view, 6> kRcodes = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};

}  // namespace

absl::string_view RcodeName(uint8_t rcode) { return rcode < kRcodes.size() ? kRcodes[rcode] : "RCODE?"; }

std::optional<uint8_t> ParseRcode(absl::string_view word) {
  for (size_t i = 0; i < kRcodes.size(); ++i) {
    if (word == kRcodes[i]) return static_cast<uint8_t>(i);
  }
  return std::nullopt;
}

Delivery FakeNetwork::Send(Millis now, const Action& send) {
  FakeResolver& to = resolvers_.at(send.resolver);
  if (send.transport == Transport::kTcp) return SendTcp(now, send, to.tcp);
  return SendUdp(now, send, to);
}

Delivery FakeNetwork::SendUdp(Millis now, const Action& send, FakeResolver& to) {
  const Millis deadline = now + send.timeout;
  const Delivery timeout{.kind = Delivery::Kind::kTimeout, .at = deadline};
  // The first copy that is not lost decides: every copy meets the same
  // resolver, so later ones could only answer later.
  Millis copy = now;
  while (to.drops > 0) {
    --to.drops;
    if (send.retransmit_every <= 0) return timeout;
    copy += send.retransmit_every;
    if (copy >= deadline) return timeout;
  }
  const Behaviour& b = to.udp;
  switch (b.kind) {
    case Behaviour::Kind::kSilent:
      return timeout;
    case Behaviour::Kind::kUnreachable:
      return Delivery{.kind = Delivery::Kind::kFailure, .at = copy};
    case Behaviour::Kind::kAnswers:
    case Behaviour::Kind::kTruncates:
      break;
  }
  const Millis arrival = copy + b.delay;
  if (arrival >= deadline) return timeout;
  const bool truncates = b.kind == Behaviour::Kind::kTruncates;
  return Delivery{.kind = Delivery::Kind::kReply,
                  .at = arrival,
                  .reply = {.rcode = truncates ? static_cast<uint8_t>(kNoError) : b.rcode,
                            .truncated = truncates,
                            // The channel resends until a reply comes: was one sent before it came?
                            .retransmitted = send.retransmit_every > 0 && now + send.retransmit_every < arrival,
                            .rtt_micros = (arrival - now) * 1000}};
}

Delivery FakeNetwork::SendTcp(Millis now, const Action& send, const Behaviour& tcp) {
  const Millis deadline = now + send.timeout;
  switch (tcp.kind) {
    case Behaviour::Kind::kSilent:
      return Delivery{.kind = Delivery::Kind::kTimeout, .at = deadline};
    case Behaviour::Kind::kUnreachable:
      return Delivery{.kind = Delivery::Kind::kFailure, .at = now};
    case Behaviour::Kind::kAnswers:
    case Behaviour::Kind::kTruncates:
      break;
  }
  if (now + tcp.delay >= deadline) return Delivery{.kind = Delivery::Kind::kTimeout, .at = deadline};
  return Delivery{.kind = Delivery::Kind::kReply,
                  .at = now + tcp.delay,
                  .reply = {.rcode = tcp.rcode, .rtt_micros = tcp.delay * 1000}};
}

}  // namespace meshdns::testing
