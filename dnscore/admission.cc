#include "dnscore/admission.h"

namespace meshdns {

Admitted AdmitQuery(std::span<const uint8_t> query, const IpAddress& client, const AdmitOptions& options,
                    QueryView& view, std::span<uint8_t> out) {
  const QueryCheck check = ParseQuery(query, view);
  switch (check) {
    case QueryCheck::kDrop: return {Verdict::kDrop, 0};
    case QueryCheck::kFormErr: return {Verdict::kReply, WriteErrorReply(check, kFormErr, view, query, out)};
    case QueryCheck::kNotImp: return {Verdict::kReply, WriteErrorReply(check, kNotImp, view, query, out)};
    case QueryCheck::kBadVers: return {Verdict::kReply, WriteErrorReply(check, 0, view, query, out)};
    case QueryCheck::kOk: break;
  }
  if (options.acl != nullptr && !options.acl->Allows(client)) {
    return {.verdict = Verdict::kReply, .size = WriteErrorReply(check, kRefused, view, query, out), .acl_refused = true};
  }
  if (options.cache != nullptr) {
    const size_t limit = options.udp ? view.MaxUdpReply() : kMaxMessageSize;
    CacheLookup lookup{.write = {.limit = limit, .rotation = options.rotation}, .now = options.now, .prefetch = options.prefetch};
    if (std::optional<CacheHit> hit = options.cache->Lookup(CacheKey::For(view), view, query, lookup, out)) {
      return {Verdict::kReply, hit->size, hit->prefetch};
    }
  }
  return {Verdict::kResolve, 0};
}

}  // namespace meshdns
