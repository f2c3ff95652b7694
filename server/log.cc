#include "server/log.h"

#include <unistd.h>

#include <ctime>

namespace meshdns {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel ParseLogLevel(const std::string& name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void LogLine(LogLevel level, const std::string& message) {
  static const char* const kNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &t);
  std::string line = absl::StrCat(stamp, "Z [", kNames[static_cast<int>(level)], "] ", message, "\n");
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

void LogIfException(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    Log(LogLevel::kError, "a query handler failed: ", x.what());
  } catch (...) {
    Log(LogLevel::kError, "a query handler failed");
  }
}

}  // namespace meshdns
