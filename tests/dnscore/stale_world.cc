#include "tests/dnscore/stale_world.h"

#include "absl/strings/str_cat.h"
#include "tests/dnscore/fake_network.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns::testing {
namespace {

constexpr Millis kServeStaleFor = 24 * 3600 * 1000;
constexpr Millis kExpiredAgo = 10 * 60 * 1000;  // longer than any TTL the policy allows

std::string Dotted(absl::string_view name) { return absl::StrCat(name, ".example."); }

Question QuestionFor(absl::string_view name) {
  return Question{.name = *DnsName::FromText(Dotted(name)), .qtype = kTypeA, .qclass = kClassIN};
}

// A resolver's reply to `name` with `rcode`: one A record when NOERROR.
std::vector<uint8_t> ReplyFor(absl::string_view name, uint8_t rcode) {
  Wire w;
  w.Header(0, 0x8180 | rcode, 1, rcode == kNoError ? 1 : 0).Question(Dotted(name), kTypeA);
  if (rcode == kNoError) w.A(Dotted(name), 30);
  return w.bytes();
}

}  // namespace

StaleWorld::StaleWorld(const Options& options, std::span<ResolverHealth* const> pool) : pools_{pool} {
  const DnsName root = *DnsName::FromText(".");
  Block block;
  block.zones = {root};
  block.name.assign(1, '.');  // not = ".": GCC 12 warns falsely (-Wrestrict)
  block.cache = BlockCache{.zones = {root}, .serve_stale = options.serve_stale ? kServeStaleFor : 0};
  block.forwards = {BlockForward{.from = root, .pool = 0}};
  std::vector<Block> blocks;
  blocks.push_back(std::move(block));
  program_ = Program(std::move(blocks), std::nullopt, nullptr);
}

std::optional<std::string> StaleWorld::Start(absl::string_view name, QueryState& state, Millis now) {
  const Question question = QuestionFor(name);
  absl::StatusOr<StoredReply> old = StoredReply::FromMessage(ReplyFor(name, kNoError), TtlPolicy{});
  cache_.Insert(question.Key(), std::make_shared<const StoredReply>(*std::move(old)), now - kExpiredAgo);
  const uint64_t stale_before = counters_.stale_answers;
  Pipeline pipeline(program_, pools_, cache_, counters_, scratch_);
  const Step step = pipeline.Start(question, 0, state, {.now = now});
  if (step.kind == Step::Kind::kForward) return std::nullopt;
  return Client(step.answer, stale_before);
}

std::string StaleWorld::Forwarded(absl::string_view name, QueryState& state, AttemptOutcome outcome,
                                  std::optional<uint8_t> rcode, Millis now) {
  const uint64_t stale_before = counters_.stale_answers;
  Pipeline pipeline(program_, pools_, cache_, counters_, scratch_);
  std::vector<uint8_t> reply;
  if (outcome == AttemptOutcome::kAnswered) reply = ReplyFor(name, *rcode);
  const Step step = pipeline.Forwarded(state, reply, outcome == AttemptOutcome::kOverloaded, {.now = now});
  if (step.kind != Step::Kind::kAnswer) return "a chase";  // no stale world rewrites CNAME targets
  return Client(step.answer, stale_before);
}

std::string StaleWorld::Client(const Answer& answer, uint64_t stale_before) const {
  switch (answer.kind) {
    case Answer::Kind::kReply:
      if (counters_.stale_answers > stale_before) return "client stale";
      return absl::StrCat("client ", RcodeName(answer.reply->rcode()));
    case Answer::Kind::kServFail:
      return "client SERVFAIL";
    case Answer::Kind::kRefused:
      return "client REFUSED";
  }
  return "client ?";
}

}  // namespace meshdns::testing
