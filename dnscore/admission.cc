#include "dnscore/admission.h"

namespace meshdns {

Admitted AdmitQuery(std::span<const uint8_t> query, const IpAddress& client, const AdmitOptions& options,
                    QueryView& view, std::span<uint8_t> out) {
  const QueryCheck check = ParseQuery(query, view);
  const auto error = [&](uint8_t rcode) { return WriteErrorReply(check, rcode, view, query, out, options.udp_reply_size); };
  switch (check) {
    case QueryCheck::kDrop: return {Verdict::kDrop, 0};
    case QueryCheck::kFormErr: return {Verdict::kReply, error(kFormErr)};
    case QueryCheck::kNotImp: return {Verdict::kReply, error(kNotImp)};
    case QueryCheck::kBadVers:
      // CoreDNS's server refuses a class it does not serve before it looks at the EDNS version.
      if (options.program != nullptr && !options.program->AllowsClass(options.server, view.qclass)) {
        return {Verdict::kReply,
                WriteErrorReply(QueryCheck::kOk, kRefused, view, query, out, options.udp_reply_size)};
      }
      return {Verdict::kReply, error(0)};
    case QueryCheck::kSigned: return {Verdict::kReply, error(kRefused)};
    case QueryCheck::kOk: break;
  }
  if (options.acl != nullptr && !options.acl->Allows(client)) {
    return {.verdict = Verdict::kReply, .size = error(kRefused), .acl_refused = true};
  }
  // A Corefile's views choose the block (and so its acl and cache entries).
  bool routed = true;
  if (options.program != nullptr && options.program->has_views()) {
    const ClientAddress who = options.who != nullptr ? *options.who : ClientAddress{.ip = client, .tcp = !options.udp};
    const Question question = Question::Of(view, query, options.server, who);
    const ViewQuery facts = question.ForView();
    view.route = options.program->RouteOf(options.program->Dispatch(view.qname, options.server, &facts));
    routed = view.route != 0;  // no block: the pipeline refuses it
  }
  // A Corefile block's acl, before the cache.
  const std::optional<AclAction> acl =
      options.program == nullptr || !routed
          ? std::nullopt
          : options.program->Admit(view.qname, view.qtype, view.qclass, client, options.server, view.route);
  const bool acl_allowed = acl == AclAction::kAllow;
  if (acl) {
    switch (*acl) {
      case AclAction::kAllow: break;
      case AclAction::kBlock:
        return {.verdict = Verdict::kReply,
                .size = WriteEdeReply(kRefused, kEdeBlocked, view, query, out, options.udp_reply_size),
                .acl_refused = true};
      case AclAction::kFilter:
        return {.verdict = Verdict::kReply,
                .size = WriteEdeReply(kNoError, kEdeFiltered, view, query, out, options.udp_reply_size),
                .acl_filtered = true};
      case AclAction::kDrop: return {.verdict = Verdict::kDrop, .acl_dropped = true};
    }
  }
  if (options.cache != nullptr && routed) {
    const size_t limit = options.udp ? view.UdpReplyLimit(options.udp_reply_size) : kMaxMessageSize;
    CacheLookup lookup{.write = {.limit = limit, .rotation = options.rotation, .advertised = options.udp_reply_size},
                       .now = options.now, .prefetch = options.prefetch};
    if (std::optional<CacheHit> hit = options.cache->Lookup(CacheKey::For(view, options.server), view, query, lookup, out)) {
      return {.verdict = Verdict::kReply, .size = hit->size, .prefetch = hit->prefetch, .acl_allowed = acl_allowed};
    }
  }
  return {.verdict = Verdict::kResolve, .acl_allowed = acl_allowed};
}

}  // namespace meshdns
