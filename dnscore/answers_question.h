// Whether a NOERROR reply's answer section answers its question, as CoreDNS's
// cache judges it (plugin/cache/cache.go, answersQuestion): the queried type
// must sit at the end of the CNAME chain that starts at the question's name.
// A chain that forks (an owner with two different targets) or loops answers
// nothing. The cache keeps a reply that answers nothing only as a denial,
// and only when an SOA bounds its lifetime (RFC 2308 section 5): a
// forwarder's unfinished chain must not be replayed until it expires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnscore/dns_name.h"

namespace meshdns {

struct QuestionOf {
  const DnsName& name;
  uint16_t qtype;
  uint16_t qclass;
};

// `msg` is the reply; its answer section holds `answers` records from
// `answers_at` on. A malformed section answers nothing.
bool AnswersQuestion(std::span<const uint8_t> msg, size_t answers_at, size_t answers, const QuestionOf& q);

}  // namespace meshdns
