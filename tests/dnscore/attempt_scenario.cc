#include "tests/dnscore/attempt_scenario.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "dnscore/forward_attempts.h"
#include "dnscore/health_check.h"
#include "tests/dnscore/fake_network.h"
#include "tests/dnscore/stale_world.h"

namespace meshdns::testing {
namespace {

using Words = std::vector<absl::string_view>;

// "400ms" or "2s": every time and duration in a scenario says its unit.
std::optional<Millis> ParseMillis(absl::string_view word) {
  int64_t n = 0;
  if (absl::ConsumeSuffix(&word, "ms") && absl::SimpleAtoi(word, &n)) return n;
  if (absl::ConsumeSuffix(&word, "s") && absl::SimpleAtoi(word, &n)) return n * 1000;
  return std::nullopt;
}

std::string Ms(Millis ms) { return absl::StrCat(ms, "ms"); }

struct Query {
  std::string name;
  ForwardAttempts attempts;
  std::optional<std::pair<uint8_t, size_t>> kept;  // the reply to serve: rcode, resolver
  QueryState state;
};

struct Event {
  enum class Kind { kStart, kReply, kTimeout, kFailure, kProbe, kProbeAnswered, kProbeFailed };
  Kind kind = Kind::kStart;
  Query* query = nullptr;  // the query's events
  size_t resolver = 0;     // a probe's
  bool prober = false;     // a probe the prober sent (not a `probe` line)
  AttemptReply reply;
};

struct TraceLine {
  Millis at = 0;
  std::string text;
};

class Runner {
 public:
  explicit Runner(absl::string_view file) : file_(file) {}

  absl::Status Line(size_t number, absl::string_view line) {
    line_ = number;
    line = line.substr(0, line.find('#'));
    const Words w = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (w.empty()) return absl::OkStatus();
    if (w[0] == "pool") return Pool(w);
    if (pool_.health.empty()) return Error("the first line must be `pool`");
    if (w[0] == "resolver") return Resolver(w);
    if (w[0] == "cache" && w.size() == 2 && (w[1] == "stale=yes" || w[1] == "stale=no")) {
      stale_.emplace(StaleWorld::Options{.serve_stale = w[1] == "stale=yes"}, pool_.health);
      return absl::OkStatus();
    }
    if (w[0] == "query" && w.size() == 4 && w[2] == "at") return StartQuery(w[1], ParseMillis(w[3]));
    if (w[0] == "probe" && w.size() == 4 && w[2] == "at") return StartProbe(w[1], ParseMillis(w[3]));
    if (w[0] == "prober" && w.size() == 2 && w[1] == "on") {
      prober_ = true;
      probing_.assign(health_.size(), false);
      probe_started_.assign(health_.size(), 0);
      return absl::OkStatus();
    }
    if (w[0] == "expect" && w.size() >= 3 && w[1] == "health") return ExpectHealth(w);
    if (w[0] == "expect" && w.size() >= 3) return Expect(ParseMillis(w[1]), Words(w.begin() + 2, w.end()));
    return Error(absl::StrCat("cannot read `", absl::StripAsciiWhitespace(line), "`"));
  }

  // Everything the scenario set going must have been expected.
  absl::Status End() {
    if (std::optional<TraceLine> extra = Next()) return Error(absl::StrCat("unexpected `", Show(*extra), "`"));
    if (expectations_ == 0) return Error("a scenario expects something");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ":", line_, ": ", what));
  }
  static std::string Show(const TraceLine& t) { return absl::StrCat(Ms(t.at), " ", t.text); }

  absl::Status Pool(const Words& w) {
    if (!pool_.health.empty() || w.size() < 3) return Error("one `pool POLICY resolvers=N ...` first");
    if (w[1] == "round_robin") pool_.policy = Policy::kRoundRobin;
    else if (w[1] == "sequential") pool_.policy = Policy::kSequential;
    else if (w[1] == "random") pool_.policy = Policy::kRandom;
    else return Error(absl::StrCat("no policy `", w[1], "`"));
    size_t resolvers = 0;
    pool_.inflight_limit = 10000;
    for (size_t i = 2; i < w.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(w[i], absl::MaxSplits('=', 1));
      const absl::string_view key = kv.first, value = kv.second;
      uint32_t n = 0;
      const bool number = absl::SimpleAtoi(value, &n);
      std::optional<Millis> ms = ParseMillis(value);
      if (key == "resolvers" && number && n > 0) resolvers = n;
      else if (key == "timeout" && ms) pool_.timeout = *ms;
      else if (key == "max_fails" && number) pool_.health_options.max_fails = n;
      else if (key == "health_check" && ms) check_.interval = *ms;
      else if (key == "domain" && DnsName::FromText(value).ok()) check_.domain = *DnsName::FromText(value);
      else if (w[i] == "no_rec") check_.recursion_desired = false;
      else if (key == "inflight" && number) pool_.inflight_limit = n;
      else if (key == "max_concurrent" && number) pool_.max_concurrent = n;
      else if (key == "max_connect_attempts" && number) pool_.max_failed_attempts = n;
      else if (key == "failover" && ParseRcode(value)) pool_.retry_rcodes |= static_cast<uint16_t>(1u << *ParseRcode(value));
      else if (w[i] == "transport=tcp") pool_.transport = Transport::kTcp;
      else return Error(absl::StrCat("cannot read `", w[i], "`"));
    }
    if (resolvers == 0) return Error("a pool needs resolvers=N");
    network_.emplace(resolvers);
    for (size_t i = 0; i < resolvers; ++i) {
      health_.push_back(std::make_unique<ResolverHealth>());
      health_view_.push_back(health_.back().get());
    }
    pool_.health = health_view_;
    pool_.concurrent = &concurrent_;
    pool_.rotation = &rotation_;
    return absl::OkStatus();
  }

  // resolver N [udp|tcp] answers RCODE [after D] | truncates [after D] | silent | unreachable
  // resolver N drops COUNT
  absl::Status Resolver(Words w) {
    size_t i = 0;
    if (w.size() < 3 || !absl::SimpleAtoi(w[1], &i) || i >= network_->size()) return Error("no such resolver");
    FakeResolver& r = network_->resolver(i);
    if (w[2] == "drops" && w.size() == 4 && absl::SimpleAtoi(w[3], &r.drops)) return absl::OkStatus();
    std::vector<Behaviour*> to = {&r.udp, &r.tcp};
    if (w[2] == "udp" || w[2] == "tcp") {
      to = {w[2] == "udp" ? &r.udp : &r.tcp};
      w.erase(w.begin() + 2);
    }
    Behaviour b;
    size_t used = 3;
    if (w.size() >= 4 && w[2] == "answers" && ParseRcode(w[3])) {
      b = {.kind = Behaviour::Kind::kAnswers, .rcode = *ParseRcode(w[3])};
      used = 4;
    } else if (w.size() >= 3 && w[2] == "truncates") {
      b.kind = Behaviour::Kind::kTruncates;
      if (to.size() == 2) to = {&r.udp};  // a TCP reply is never truncated
    } else if (w.size() == 3 && (w[2] == "silent" || w[2] == "unreachable")) {
      b.kind = w[2] == "silent" ? Behaviour::Kind::kSilent : Behaviour::Kind::kUnreachable;
    } else {
      return Error("cannot read this resolver's behaviour");
    }
    if (w.size() == used + 2 && w[used] == "after" && ParseMillis(w[used + 1])) {
      b.delay = *ParseMillis(w[used + 1]);
    } else if (w.size() != used) {
      return Error("cannot read this resolver's behaviour");
    }
    for (Behaviour* each : to) *each = b;
    return absl::OkStatus();
  }

  absl::Status StartQuery(absl::string_view name, std::optional<Millis> at) {
    if (!at || *at < now_) return Error("a query starts at a time not yet past, such as `at 0ms`");
    for (const auto& q : queries_) {
      if (q->name == name) return Error(absl::StrCat("query ", name, " twice"));
    }
    queries_.push_back(std::make_unique<Query>());
    queries_.back()->name = std::string(name);
    Schedule(*at, {.kind = Event::Kind::kStart, .query = queries_.back().get()});
    return absl::OkStatus();
  }

  // A health probe, as HealthProber sends one: what the resolver does with
  // it decides, and its outcome goes to ResolverHealth::RecordProbe.
  absl::Status StartProbe(absl::string_view word, std::optional<Millis> at) {
    size_t i = 0;
    if (!absl::SimpleAtoi(word, &i) || i >= health_.size()) return Error("no such resolver");
    if (!at || *at < now_) return Error("a probe starts at a time not yet past, such as `at 0ms`");
    Schedule(*at, {.kind = Event::Kind::kProbe, .resolver = i});
    return absl::OkStatus();
  }

  absl::Status Expect(std::optional<Millis> at, const Words& what) {
    if (!at) return Error("an expectation starts with its time, such as `expect 400ms ...`");
    ++expectations_;
    const TraceLine want{*at, absl::StrJoin(what, " ")};
    std::optional<TraceLine> got = Next();
    if (!got) return Error(absl::StrCat("expected `", Show(want), "`, but nothing more happened"));
    if (got->at != want.at || got->text != want.text) {
      return Error(absl::StrCat("expected `", Show(want), "`, got `", Show(*got), "`"));
    }
    return absl::OkStatus();
  }

  // expect health N [up|down] [failures=N] [timeout=D] [resend=D] [inflight=N]: each word must hold.
  absl::Status ExpectHealth(const Words& w) {
    size_t i = 0;
    if (!absl::SimpleAtoi(w[2], &i) || i >= health_.size()) return Error("no such resolver");
    ++expectations_;
    const ResolverHealth& h = *health_[i];
    const std::vector<std::string> state = {h.IsUp() ? "up" : "down", absl::StrCat("failures=", h.failures()),
                                            "timeout=" + Ms(h.AttemptTimeout(pool_.timeout)),
                                            "resend=" + Ms(h.RetransmitInterval()),
                                            absl::StrCat("inflight=", h.inflight())};
    for (size_t k = 3; k < w.size(); ++k) {
      if (std::find(state.begin(), state.end(), w[k]) == state.end()) {
        return Error(absl::StrCat("expected resolver ", i, " `", w[k], "`, it is `", absl::StrJoin(state, " "), "`"));
      }
    }
    return absl::OkStatus();
  }

  void Schedule(Millis at, Event event) { events_.emplace(std::make_pair(at, seq_++), event); }
  void Trace(const Query& q, absl::string_view text) {
    trace_.push_back(TraceLine{.at = now_, .text = absl::StrCat(q.name, " ", text)});
  }

  // The next thing that happened, running the network until something does.
  std::optional<TraceLine> Next() {
    while (trace_.empty() && !events_.empty()) Step();
    if (trace_.empty()) return std::nullopt;
    TraceLine next = std::move(trace_.front());
    trace_.pop_front();
    return next;
  }

  void Step() {
    StepOnce();
    if (prober_) StartProbes();
  }

  // The prober, as HealthProber runs it: a resolver out of rotation is
  // probed from the moment it fell (CoreDNS kicks its check at the failing
  // query), then as the pool's HealthCheck paces it, until it is back.
  void StartProbes() {
    for (size_t i = 0; i < health_.size(); ++i) {
      if (health_[i]->IsUp() || probing_[i]) continue;
      probing_[i] = true;
      Schedule(now_, {.kind = Event::Kind::kProbe, .resolver = i, .prober = true});
    }
  }

  // One event, on the virtual clock: dnscore sees kEpoch later, so a cache
  // entry can have expired before the scenario starts.
  void StepOnce() {
    auto first = events_.begin();
    now_ = first->first.first;
    const Event e = first->second;
    events_.erase(first);
    const Millis now = StaleWorld::kEpoch + now_;
    if (e.query == nullptr) return Probe(e, now);
    Query& q = *e.query;
    Action action;
    switch (e.kind) {
      case Event::Kind::kStart:
        if (stale_) {
          if (std::optional<std::string> answered = stale_->Start(q.name, q.state, now)) {
            Trace(q, *answered);  // the pipeline answered before anything was forwarded
            return;
          }
        }
        action = q.attempts.Start(now, pool_, /*random=*/seq_);
        break;
      case Event::Kind::kReply: {
        const size_t from = q.attempts.resolver();
        action = q.attempts.OnReply(now, e.reply);
        if (action.keep_reply) q.kept = {e.reply.rcode, from};
        break;
      }
      case Event::Kind::kTimeout:
        action = q.attempts.OnTimeout(now);
        break;
      case Event::Kind::kFailure:
        action = q.attempts.OnFailure(now);
        break;
      case Event::Kind::kProbe:
      case Event::Kind::kProbeAnswered:
      case Event::Kind::kProbeFailed:
        return;  // Probe()'s, above
    }
    if (action.out_of_rotation) Trace(q, absl::StrCat("takes ", *action.out_of_rotation, " out of rotation"));
    Carry(q, action);
  }

  // A probe is sent (kProbe), then its outcome recorded when the network says.
  void Probe(const Event& e, Millis now) {
    if (e.kind == Event::Kind::kProbe) {
      const Action probe{.kind = Action::Kind::kSend, .resolver = e.resolver, .transport = pool_.transport,
                         .timeout = check_.ProbeTimeout()};
      if (e.prober) {
        probe_started_[e.resolver] = now_;
        const UpstreamQuestion q = check_.Question();
        trace_.push_back({.at = now_, .text = absl::StrCat("probe ", e.resolver, " sent ", q.name.ToText(), " NS ",
                                                           q.recursion_desired ? "rd " : "norec ",
                                                           probe.transport == Transport::kTcp ? "tcp" : "udp",
                                                           " timeout=", Ms(probe.timeout))});
      }
      const Delivery d = network_->Send(now_, probe);
      Schedule(d.at, {.kind = d.kind == Delivery::Kind::kReply ? Event::Kind::kProbeAnswered : Event::Kind::kProbeFailed,
                      .resolver = e.resolver,
                      .prober = e.prober});
      return;
    }
    const bool answered = e.kind == Event::Kind::kProbeAnswered;
    const bool back = health_[e.resolver]->RecordProbe(answered, now);
    trace_.push_back({.at = now_, .text = absl::StrCat("probe ", e.resolver, answered ? " answered" : " failed",
                                                       back ? ", back in rotation" : "")});
    if (!e.prober) return;
    if (health_[e.resolver]->IsUp()) {
      probing_[e.resolver] = false;
    } else {
      Schedule(check_.NextProbe(probe_started_[e.resolver], now_),
               {.kind = Event::Kind::kProbe, .resolver = e.resolver, .prober = true});
    }
  }

  void Carry(Query& q, const Action& action) {
    if (action.kind == Action::Kind::kSend) {
      std::string send = absl::StrCat("send ", action.resolver, action.transport == Transport::kTcp ? " tcp" : " udp",
                                      " timeout=", Ms(action.timeout));
      if (action.retransmit_every > 0) absl::StrAppend(&send, " every=", Ms(action.retransmit_every));
      Trace(q, send);
      const Delivery d = network_->Send(now_, action);
      constexpr Event::Kind kKinds[] = {Event::Kind::kReply, Event::Kind::kTimeout, Event::Kind::kFailure};
      Schedule(d.at, {.kind = kKinds[static_cast<int>(d.kind)], .query = &q, .reply = d.reply});
      return;
    }
    switch (action.outcome) {
      case AttemptOutcome::kAnswered:
        Trace(q, absl::StrCat("answered ", RcodeName(q.kept->first), " from ", q.kept->second));
        break;
      case AttemptOutcome::kFailed:
        Trace(q, "failed");
        break;
      case AttemptOutcome::kOverloaded:
        Trace(q, "overloaded");
        break;
    }
    if (stale_) {
      std::optional<uint8_t> rcode;
      if (action.outcome == AttemptOutcome::kAnswered) rcode = q.kept->first;
      Trace(q, stale_->Forwarded(q.name, q.state, action.outcome, rcode, StaleWorld::kEpoch + now_));
    }
  }

  std::string file_;
  size_t line_ = 0;
  size_t expectations_ = 0;
  AttemptPool pool_;
  HealthCheck check_;  // how probes ask and how long they wait, as HealthProber's do
  bool prober_ = false;  // `prober on`: probes start by themselves
  std::vector<bool> probing_;
  std::vector<Millis> probe_started_;
  std::vector<std::unique_ptr<ResolverHealth>> health_;
  std::vector<ResolverHealth*> health_view_;
  std::atomic<uint32_t> concurrent_{0};
  std::atomic<uint64_t> rotation_{0};
  std::optional<FakeNetwork> network_;
  std::optional<StaleWorld> stale_;
  std::vector<std::unique_ptr<Query>> queries_;
  std::map<std::pair<Millis, uint64_t>, Event> events_;  // by time, then by when scheduled
  uint64_t seq_ = 0;
  Millis now_ = 0;
  std::deque<TraceLine> trace_;
};

}  // namespace

absl::Status RunAttemptScenario(absl::string_view file, absl::string_view text) {
  Runner runner(file);
  size_t number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::Status s = runner.Line(++number, line); !s.ok()) return s;
  }
  return runner.End();
}

}  // namespace meshdns::testing
