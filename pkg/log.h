#pragma once
// Logging in containerd's formats over spdlog:
//   text: time="2026-01-02T03:04:05.123456789Z" level=info msg="..." key=value
//   json: {"key":"value","level":"info","msg":"...","time":"..."}
// Use: log::Info("loading plugin", {{"id", id}, {"type", type}});
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace mcd::log {

using Field = std::pair<std::string_view, std::string_view>;
using Fields = std::initializer_list<Field>;

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kFatal };
enum class Format { kText, kJson };

// Level names as containerd: trace, debug, info, warn(ing), error, fatal, panic.
bool ParseLevel(std::string_view name, Level* out);
void Setup(Level level, Format format);
bool Enabled(Level level);

void Write(Level level, std::string_view msg, Fields fields = {});
inline void Trace(std::string_view m, Fields f = {}) {
  Write(Level::kTrace, m, f);
}
inline void Debug(std::string_view m, Fields f = {}) {
  Write(Level::kDebug, m, f);
}
inline void Info(std::string_view m, Fields f = {}) {
  Write(Level::kInfo, m, f);
}
inline void Warn(std::string_view m, Fields f = {}) {
  Write(Level::kWarn, m, f);
}
inline void Error(std::string_view m, Fields f = {}) {
  Write(Level::kError, m, f);
}

// The formatted line without the trailing newline (exposed for tests).
std::string FormatLine(Format format, Level level, std::string_view msg, Fields fields,
                       std::string_view time);

}  // namespace mcd::log
