// Test helper: a DNS message read back as text, one line per record in
// ldns's presentation form with tabs folded to spaces ("a.example. 60 IN A
// 192.0.2.1"), so a test compares what a client would see. Header-only.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "dnscore/message.h"

namespace meshdns::testing {

struct MessageText {
  uint8_t rcode = 0;
  bool aa = false, ra = false;
  std::vector<std::string> question, answer, authority, additional;
};

inline std::string RecordText(const ldns_rr* rr) {
  char* text = ldns_rr2str(rr);
  std::string line = absl::StrReplaceAll(text, {{"\t", " "}});
  free(text);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

inline std::vector<std::string> RecordTexts(const ldns_rr_list* list) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) out.push_back(RecordText(ldns_rr_list_rr(list, i)));
  return out;
}

inline MessageText ReadMessage(std::span<const uint8_t> wire) {
  absl::StatusOr<PktPtr> pkt = ParseMessage(wire);
  EXPECT_TRUE(pkt.ok()) << pkt.status();
  if (!pkt.ok()) return {};
  ldns_pkt* p = pkt->get();
  return MessageText{.rcode = static_cast<uint8_t>(ldns_pkt_get_rcode(p)),
                     .aa = ldns_pkt_aa(p),
                     .ra = ldns_pkt_ra(p),
                     .question = RecordTexts(ldns_pkt_question(p)),
                     .answer = RecordTexts(ldns_pkt_answer(p)),
                     .authority = RecordTexts(ldns_pkt_authority(p)),
                     .additional = RecordTexts(ldns_pkt_additional(p))};
}

}  // namespace meshdns::testing
