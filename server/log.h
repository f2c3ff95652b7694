// Minimal leveled logging to stderr, one line per call (a single write, so
// lines from different threads do not interleave). Thread-safe.
#pragma once

#include <atomic>
#include <exception>
#include <string>

#include "absl/strings/str_cat.h"
#include "dnscore/error_consolidation.h"

namespace meshdns {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
inline LogLevel ToLogLevel(ErrorLevel level) {
  switch (level) {
    case ErrorLevel::kDebug: return LogLevel::kDebug;
    case ErrorLevel::kInfo: return LogLevel::kInfo;
    case ErrorLevel::kWarning: return LogLevel::kWarn;
    case ErrorLevel::kError: break;
  }
  return LogLevel::kError;
}
LogLevel ParseLogLevel(const std::string& name);
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

// The completion handler for detached coroutines: an exception that escaped
// one (a bug) is logged and the worker serves on.
void LogIfException(std::exception_ptr e);

template <typename... Args>
void Log(LogLevel level, const Args&... args) {
  if (LogEnabled(level)) LogLine(level, absl::StrCat(args...));
}

}  // namespace meshdns
