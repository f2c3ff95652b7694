#include "dnscore/exchange_table.h"

#include "dnscore/upstream_query.h"

namespace meshdns {

ReplyMatch MatchReply(std::span<const uint8_t> reply, PortRef arrived_on, std::span<const uint8_t> query,
                      PortRef sent_on) {
  if (reply.size() < 2) return ReplyMatch::kTooShort;
  if (query.size() < 2 || reply[0] != query[0] || reply[1] != query[1]) return ReplyMatch::kUnknownId;
  // The kernel already drops other sources on a connected socket; the port
  // check is what keeps a reply to one query from ending another that took
  // the same ID on a different (or a reopened) port.
  if (arrived_on.index != sent_on.index) return ReplyMatch::kOtherSocket;
  if (arrived_on.opening != sent_on.opening) return ReplyMatch::kRetiredPort;
  if (!ReplyMatchesQuery(reply, query)) return ReplyMatch::kOtherQuestion;
  return ReplyMatch::kAnswers;
}

}  // namespace meshdns
