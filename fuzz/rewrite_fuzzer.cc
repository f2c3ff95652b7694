// A peer's reply through the `answer auto` rename (ClusterRewrite::RestoreReply):
// every name is read through compression pointers chosen by the sender, so
// pointer loops, pointers past the end, and RDATA lengths that lie are all
// the fuzzer's to try on the raw input. Then a property: what a conforming
// sender writes (the input as ldns re-encodes it) must, once renamed, still
// be a reply ldns reads, with the same record counts. Only for conforming
// input, because RFC 3597 forbids compressed names in the RDATA of types a
// server may not know, and meshdns copies such RDATA as it is.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "dnscore/cluster_rewrite.h"
#include "dnscore/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshdns;
  static const ClusterRewrite rewrite(*DnsName::FromText("svc.cluster.local"),
                                      *DnsName::FromText("cluster2.svc.cluster.local"));
  static const DnsName client_qname = *DnsName::FromText("Web.Nginx.Default.Cluster2.svc.cluster.local");
  const std::span<const uint8_t> raw(data, size);
  RenameScratch scratch;
  (void)rewrite.RestoreReply(raw, client_qname, scratch);

  absl::StatusOr<PktPtr> before = ParseMessage(raw);
  if (!before.ok()) return 0;
  absl::StatusOr<std::vector<uint8_t>> conforming = EncodeMessage(before->get());
  if (!conforming.ok()) return 0;
  absl::StatusOr<std::vector<uint8_t>> renamed = rewrite.RestoreReply(*conforming, client_qname, scratch);
  if (!renamed.ok()) return 0;  // refusing is allowed (a name grown past 255 bytes, say)
  absl::StatusOr<PktPtr> after = ParseMessage(*renamed);
  if (!after.ok()) std::abort();
  if (ldns_pkt_ancount(before->get()) != ldns_pkt_ancount(after->get()) ||
      ldns_pkt_nscount(before->get()) != ldns_pkt_nscount(after->get())) {
    std::abort();
  }
  return 0;
}
