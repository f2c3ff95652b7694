// A fake network of resolvers for replaying forwarding scenarios: each
// resolver behaves as the scenario says (answers after a delay, truncates,
// stays silent, is unreachable, loses its first datagrams), and a send is
// turned at once into what will come of it and when, on a virtual clock.
// Nothing here sleeps or opens a socket. Test-only; single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "dnscore/clock.h"
#include "dnscore/forward_attempts.h"

namespace meshdns::testing {

// "NOERROR", "SERVFAIL", ... as scenarios write them; nullopt for a word that is none.
absl::string_view RcodeName(uint8_t rcode);
std::optional<uint8_t> ParseRcode(absl::string_view word);

// How a resolver treats a query over one transport.
struct Behaviour {
  enum class Kind {
    kAnswers,      // a reply with `rcode` after `delay`
    kTruncates,    // a NOERROR reply with TC set after `delay`
    kSilent,       // nothing, ever
    kUnreachable,  // the send fails at once (port unreachable, connection refused)
  };
  Kind kind = Kind::kAnswers;
  uint8_t rcode = 0;
  Millis delay = 10;
};

struct FakeResolver {
  Behaviour udp;
  Behaviour tcp;
  int drops = 0;  // datagrams still to lose, resends included (a lossy link)
};

// What comes of one attempt: the event the caller will see, and when.
struct Delivery {
  enum class Kind { kReply, kTimeout, kFailure };
  Kind kind = Kind::kTimeout;
  Millis at = 0;
  AttemptReply reply;  // kReply
};

class FakeNetwork {
 public:
  explicit FakeNetwork(size_t resolvers) : resolvers_(resolvers) {}

  size_t size() const { return resolvers_.size(); }
  FakeResolver& resolver(size_t i) { return resolvers_.at(i); }
  // What comes of `send` (an Action of kind kSend) started at `now`.
  Delivery Send(Millis now, const Action& send);

 private:
  Delivery SendUdp(Millis now, const Action& send, FakeResolver& to);
  static Delivery SendTcp(Millis now, const Action& send, const Behaviour& tcp);

  std::vector<FakeResolver> resolvers_;
};

}  // namespace meshdns::testing
