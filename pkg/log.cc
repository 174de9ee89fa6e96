#include "pkg/log.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace mcd::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};

std::shared_ptr<spdlog::logger> Logger() {
  // stderr, as containerd; the pattern is only the message: we format it all.
  static auto logger = [] {
    auto l = spdlog::stderr_logger_mt("minicontainerd");
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return logger;
}

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kFatal:
      return "fatal";
  }
  return "info";
}

std::string Now() {
  auto now = std::chrono::system_clock::now();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(ns % 1000000000));
  return buf;
}

// logrus quotes a value unless it is made only of safe characters.
bool NeedsQuote(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
    if (!ok) return true;
  }
  return false;
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuote(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  out += '"';
}

}  // namespace

bool ParseLevel(std::string_view name, Level* out) {
  if (name == "trace")
    *out = Level::kTrace;
  else if (name == "debug")
    *out = Level::kDebug;
  else if (name == "info")
    *out = Level::kInfo;
  else if (name == "warn" || name == "warning")
    *out = Level::kWarn;
  else if (name == "error")
    *out = Level::kError;
  else if (name == "fatal" || name == "panic")
    *out = Level::kFatal;
  else
    return false;
  return true;
}

void Setup(Level level, Format format) {
  g_level = level;
  g_format = format;
  // libprotobuf writes its complaints (a peer's malformed message, say) to
  // stderr itself: one line per bad message, in no format of ours. They go
  // to the daemon's log instead, at debug.
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel lv, const char* file, int line, const std::string& msg) {
        const std::string at = std::string(file) + ":" + std::to_string(line);
        if (lv == google::protobuf::LOGLEVEL_FATAL)
          Error("protobuf: " + msg, {{"file", at}});
        else
          Debug("protobuf: " + msg, {{"file", at}});
      });
}

bool Enabled(Level level) {
  return level >= g_level.load(std::memory_order_relaxed);
}

std::string FormatLine(Format format, Level level, std::string_view msg, Fields fields,
                       std::string_view time) {
  if (format == Format::kJson) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : fields) j[std::string(k)] = std::string(v);
    j["level"] = std::string(LevelName(level));
    j["msg"] = std::string(msg);
    j["time"] = std::string(time);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string out = "time=\"";
  out += time;
  out += "\" level=";
  out += LevelName(level);
  out += " msg=";
  AppendValue(out, msg);
  for (const auto& [k, v] : fields) {
    out += ' ';
    out += k;
    out += '=';
    AppendValue(out, v);
  }
  return out;
}

void Write(Level level, std::string_view msg, Fields fields) {
  if (!Enabled(level)) return;
  Logger()->info(FormatLine(g_format.load(), level, msg, fields, Now()));
}

}  // namespace mcd::log
