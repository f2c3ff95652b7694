// Parsing of the small values a configuration holds: addresses, durations,
// resolv.conf nameservers.
#include <arpa/inet.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "config/config.h"

namespace meshdns {

absl::StatusOr<SocketAddress> SocketAddress::Parse(absl::string_view text, uint16_t default_port) {
  std::string host;
  absl::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError(absl::StrCat("'", text, "': missing ']'"));
    host = std::string(text.substr(1, close - 1));
    absl::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not HOST:PORT"));
      port_text = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  } else {
    host = std::string(text);
  }
  SocketAddress a;
  std::array<uint8_t, 4> v4;
  std::array<uint8_t, 16> v6;
  if (inet_pton(AF_INET, host.c_str(), v4.data()) == 1) {
    a.ip = IpAddress::FromV4(v4);
  } else if (inet_pton(AF_INET6, host.c_str(), v6.data()) == 1) {
    a.ip = IpAddress::FromV6(v6);
    a.v6 = true;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an IP address (with an optional :PORT)"));
  }
  a.port = default_port;
  if (!port_text.empty() || text.back() == ':') {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' has a bad port"));
    }
    a.port = static_cast<uint16_t>(port);
  }
  return a;
}

std::string SocketAddress::HostString() const {
  char buf[INET6_ADDRSTRLEN];
  if (v6) {
    inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET, ip.bytes.data() + 12, buf, sizeof(buf));
  }
  return buf;
}

std::string SocketAddress::ToString() const {
  return v6 ? absl::StrCat("[", HostString(), "]:", port) : absl::StrCat(HostString(), ":", port);
}

absl::StatusOr<Millis> ParseDuration(absl::string_view text) {
  if (text == "0") return 0;
  if (text.empty()) return absl::InvalidArgumentError("empty duration");
  double total_ms = 0;
  absl::string_view rest = text;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && (absl::ascii_isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '.')) ++n;
    double value = 0;
    if (n == 0 || !absl::SimpleAtod(rest.substr(0, n), &value)) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a duration like 500ms, 2s or 1m"));
    }
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && !absl::ascii_isdigit(static_cast<unsigned char>(rest[u])) && rest[u] != '.') ++u;
    absl::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    double scale = 0;
    if (unit == "ns") scale = 1e-6;
    else if (unit == "us" || unit == "µs") scale = 1e-3;
    else if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1e3;
    else if (unit == "m") scale = 60e3;
    else if (unit == "h") scale = 3600e3;
    else return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a duration like 500ms, 2s or 1m"));
    total_ms += value * scale;
    // Well past any sensible setting, and small enough that a timer set this
    // far ahead cannot overflow the clock's nanoseconds (nor a TTL its 32 bits).
    constexpr double kMaxMs = 100000.0 * 3600e3;
    if (!(total_ms <= kMaxMs)) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is longer than 100000h"));
    }
  }
  return static_cast<Millis>(total_ms);
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, uintmax_t max_size) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > max_size || ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, " (not a regular file of at most ", max_size / 1024, " KiB)"));
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::vector<SocketAddress>> ReadResolvConf(const std::string& path) {
  // A resolv.conf is a few lines.
  absl::StatusOr<std::string> text = ReadRegularFile(path, 1 << 20);
  if (!text.ok()) return text.status();
  std::vector<SocketAddress> out;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() < 2 || words[0] != "nameserver") continue;
    absl::string_view host = words[1];
    host = host.substr(0, host.find('%'));  // drop an IPv6 zone index
    absl::StatusOr<SocketAddress> a = SocketAddress::Parse(host.find(':') != absl::string_view::npos
                                                               ? absl::StrCat("[", host, "]")
                                                               : std::string(host));
    if (a.ok()) out.push_back(*a);
  }
  if (out.empty()) return absl::FailedPreconditionError(absl::StrCat("no nameserver in ", path));
  return out;
}

}  // namespace meshdns
