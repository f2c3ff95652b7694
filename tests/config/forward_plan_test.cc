// forward's options as CoreDNS reads them: the cases of CoreDNS's
// plugin/forward/setup_test.go (v1.14.7), each naming its Go test, run
// black-box through meshdns's planner, plus what meshdns refuses by name
// and what a plan compiles into (the pool the prober and the attempts read).
#include <gtest/gtest.h>

#include <string>

#include "config/corefile_plugins.h"
#include "config/corefile_runtime.h"

namespace meshdns {
namespace {

struct Planned {
  std::optional<ForwardPlan> forward;  // the block's first
  std::string error;                   // the first error, "" if none
  std::string warning;                 // with --ignore-unsupported: the first warning
};

// `forward_lines` is the directive as setup_test.go writes it, put in a `.` block.
Planned PlanForward(const std::string& forward_lines) {
  CorefileResult r = ReadCorefileText(". {\n" + forward_lines + "\n}\n", "Corefile");
  if (!r.corefile) return {.error = r.errors.empty() ? "unreadable" : r.errors.front().message};
  Planned out;
  CorefilePlan plan = PlanCorefile(*r.corefile);
  if (!plan.errors.empty()) out.error = plan.errors.front().message;
  if (!plan.servers.empty() && !plan.servers[0].forwards.empty()) out.forward = plan.servers[0].forwards[0];
  CorefilePlan lenient = PlanCorefile(*r.corefile, {.ignore_unsupported = true});
  if (!lenient.warnings.empty()) out.warning = lenient.warnings.front().message;
  return out;
}

DnsName Name(const char* text) { return *DnsName::FromText(text); }

// TestSetupHealthCheck: the positive cases, with RD and domain as CoreDNS expects them.
TEST(ForwardPlanTest, HealthCheckOptionsAsSetupTestReadsThem) {
  const struct {
    const char* input;
    bool rd;
    const char* domain;
  } cases[] = {
      {"forward . 127.0.0.1\n", true, "."},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s\n}\n", true, "."},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s no_rec\n}\n", false, "."},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s no_rec domain example.org\n}\n", false, "example.org."},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s domain example.org\n}\n", true, "example.org."},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s domain .\n}\n", true, "."},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s domain example.org.\n}\n", true, "example.org."},
  };
  for (const auto& c : cases) {
    const Planned p = PlanForward(c.input);
    ASSERT_EQ(p.error, "") << c.input;
    ASSERT_TRUE(p.forward) << c.input;
    EXPECT_EQ(p.forward->health_check.recursion_desired, c.rd) << c.input;
    EXPECT_TRUE(p.forward->health_check.domain.Equals(Name(c.domain))) << c.input;
    EXPECT_EQ(p.forward->health_check.interval, 500) << c.input;
  }
}

// TestSetupHealthCheck's negative cases, and TestSetup's `health_check 0.5s domain`.
TEST(ForwardPlanTest, HealthCheckMistakesAreRefusedAsSetupTestRefusesThem) {
  const struct {
    const char* input;
    const char* error;  // contained in meshdns's message
  } cases[] = {
      {"forward . 127.0.0.1 {\nhealth_check no_rec\n}\n", "'no_rec' is not a duration"},
      {"forward . 127.0.0.1 {\nhealth_check domain example.org\n}\n", "'domain' is not a duration"},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s rec\n}\n", "health_check: unknown option rec"},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s domain\n}\n", "health_check: domain needs an FQDN"},
      {"forward . 127.0.0.1 {\nhealth_check 0.5s domain example..org\n}\n", "health_check: invalid domain name"},
      {"forward . 127.0.0.1 {\nhealth_check -1s\n}\n", "is not a duration"},  // "can't be negative"
  };
  for (const auto& c : cases) {
    const Planned p = PlanForward(c.input);
    EXPECT_NE(p.error.find(c.error), std::string::npos) << c.input << "\n  got: " << p.error;
    EXPECT_EQ(p.warning, "") << "a mistake is no unsupported option: " << c.input;
  }
}

// health_check 0 is accepted (CoreDNS: probe again without a pause, coredns#4113).
TEST(ForwardPlanTest, HealthCheckZeroIsAnInterval) {
  const Planned p = PlanForward("forward . 127.0.0.1 {\nhealth_check 0\n}\n");
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.forward->health_check.interval, 0);
  EXPECT_EQ(p.forward->health_check.ProbeTimeout(), HealthCheck::kProbeTimeout);
}

// TestSetup: max_fails 3; the default 2.
TEST(ForwardPlanTest, MaxFails) {
  EXPECT_EQ(PlanForward("forward . 127.0.0.1\n").forward->max_fails, 2u);
  EXPECT_EQ(PlanForward("forward . 127.0.0.1 {\nmax_fails 3\n}\n").forward->max_fails, 3u);
  EXPECT_EQ(PlanForward("forward . 127.0.0.1 {\nmax_fails 0\n}\n").forward->max_fails, 0u);
}

// TestSetupMaxConnectAttempts.
TEST(ForwardPlanTest, MaxConnectAttempts) {
  const Planned unset = PlanForward("forward . 127.0.0.1 127.0.0.2 127.0.0.3 {\n}\n");
  EXPECT_FALSE(unset.forward->max_connect_attempts);
  EXPECT_EQ(unset.forward->FailedAttemptCap(), 6u) << "two per upstream";
  EXPECT_EQ(PlanForward("forward . 127.0.0.1 {\nmax_connect_attempts 0\n}\n").forward->FailedAttemptCap(), 0u);
  EXPECT_EQ(PlanForward("forward . 127.0.0.1 {\nmax_connect_attempts 5\n}\n").forward->FailedAttemptCap(), 5u);
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nmax_connect_attempts many\n}\n").error, "");
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nmax_connect_attempts -4\n}\n").error, "");
}

// TestSetupReadTimeout.
TEST(ForwardPlanTest, ReadTimeout) {
  EXPECT_EQ(PlanForward("forward . 127.0.0.1\n").forward->read_timeout, 2000);
  EXPECT_EQ(PlanForward("forward . 127.0.0.1 {\nread_timeout 5s\n}\n").forward->read_timeout, 5000);
  EXPECT_EQ(PlanForward("forward . 127.0.0.1 {\nread_timeout 500ms\n}\n").forward->read_timeout, 500);
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nread_timeout 0s\n}\n").error.find("positive"), std::string::npos);
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nread_timeout -1s\n}\n").error, "");
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nread_timeout invalid\n}\n").error, "");
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nread_timeout\n}\n").error, "");
}

// TestFailfastAllUnhealthyUpstreams: accepted alone, refused with an argument.
TEST(ForwardPlanTest, FailfastAllUnhealthyUpstreams) {
  EXPECT_EQ(PlanForward("forward . 127.0.0.1 {\nfailfast_all_unhealthy_upstreams\n}\n").error, "");
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nfailfast_all_unhealthy_upstreams false\n}\n").error, "");
}

// TestFailover's configuration (`failover ServFail Refused`, any case) and TestFailoverValidation.
TEST(ForwardPlanTest, Failover) {
  const Planned p = PlanForward("forward . 127.0.0.1 {\npolicy sequential\nfailover ServFail Refused NXDOMAIN\n}\n");
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.forward->failover_rcodes, (1u << 2) | (1u << 5) | (1u << 3));
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nfailover NOERROR\n}\n").error.find("NoError cannot be used in failover"),
            std::string::npos);
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nfailover NOT_A_VALID_RCODE\n}\n").error.find("not a valid rcode"),
            std::string::npos);
  EXPECT_NE(PlanForward("forward . 127.0.0.1 {\nfailover\n}\n").error, "");
}

// TestSetup: `blaatl` is an unknown property, a mistake and not an unsupported option.
TEST(ForwardPlanTest, AnUnknownPropertyIsAMistake) {
  const Planned p = PlanForward("forward . 127.0.0.1 {\nblaatl\n}\n");
  EXPECT_NE(p.error.find("unknown property"), std::string::npos) << p.error;
  EXPECT_EQ(p.warning, "");
}

// TestNextAlternate's valid configurations: meshdns does not chain forwards,
// and dropping `next` would answer what CoreDNS would have asked elsewhere,
// so it is refused even with --ignore-unsupported.
TEST(ForwardPlanTest, NextIsRefusedEvenWhenIgnoringUnsupported) {
  for (const char* input : {"forward . 127.0.0.1 {\nnext NXDOMAIN\n}\n", "forward . 127.0.0.1 {\nnext_on_nodata\n}\n"}) {
    const Planned p = PlanForward(input);
    EXPECT_NE(p.error.find("is not supported (meshdns does not hand a query on"), std::string::npos) << p.error;
    EXPECT_EQ(p.warning, "") << input;
  }
}

// TestSourceAddress, TestSetupMaxIdleConns, TestSetupMaxAge: options that only
// say how queries leave; refused by name, or left out with a warning.
TEST(ForwardPlanTest, OptionsMeshdnsDoesNotRunAreRefusedByName) {
  const struct {
    const char* input;
    const char* message;
  } cases[] = {
      {"forward . 127.0.0.1 {\nsource_address 192.0.2.1\n}\n", "forward: option source_address is not supported"},
      {"forward . 127.0.0.1 {\nmax_idle_conns 10\n}\n", "forward: option max_idle_conns is not supported"},
      {"forward . 127.0.0.1 {\nmax_age 30s\n}\n", "forward: option max_age is not supported"},
      {"forward . 127.0.0.1 {\nresolver 10.0.0.1\n}\n", "forward: option resolver is not supported"},
      {"forward . my-dns.example.org\n", "forward: my-dns.example.org: host name upstreams are not supported"},
  };
  for (const auto& c : cases) {
    const Planned p = PlanForward(c.input);
    EXPECT_EQ(p.error.rfind(c.message, 0), 0u) << c.input << "\n  got: " << p.error;
    EXPECT_EQ(p.warning.rfind(c.message, 0), 0u) << c.input << "\n  got: " << p.warning;
  }
}

// What the prober and the attempts read: the pool compiled from one forward.
TEST(ForwardPlanTest, APoolCarriesTheForwardsHealthCheckAndAttempts) {
  CorefileResult r = ReadCorefileText(
      ". {\n  forward . 192.0.2.1 192.0.2.2 {\n    health_check 2s no_rec domain Example.ORG\n"
      "    read_timeout 3s\n    failover NXDOMAIN\n    force_tcp\n  }\n}\n",
      "Corefile");
  ASSERT_TRUE(r.corefile);
  const CorefileLoad load = CompileCorefile(*r.corefile, {});
  ASSERT_TRUE(load.errors.empty()) << load.errors.front().ToString();
  ASSERT_EQ(load.serving.pools.size(), 1u);
  const Pool& pool = load.serving.pools[0];
  EXPECT_EQ(pool.health_check.interval, 2000);
  EXPECT_FALSE(pool.health_check.recursion_desired);
  EXPECT_TRUE(pool.health_check.domain.Equals(Name("example.org")));
  EXPECT_EQ(pool.timeout, 3000);
  EXPECT_EQ(pool.retry_rcodes, AttemptPool::kDefaultRetryRcodes | (1u << 3));
  EXPECT_EQ(pool.max_failed_attempts, 4u) << "CoreDNS's two per upstream";
  EXPECT_TRUE(pool.force_tcp) << "probes go over TCP too";
}

}  // namespace
}  // namespace meshdns
