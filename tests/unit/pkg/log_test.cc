// Log lines in containerd's (logrus) text and JSON formats.
#include "pkg/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mcd {
namespace {

constexpr std::string_view kTime = "2026-01-02T03:04:05.123456789Z";

TEST(Log, Text) {
  EXPECT_EQ(
      log::FormatLine(log::Format::kText, log::Level::kInfo, "loading plugin",
                      {{"id", "rocksdb"}, {"type", "io.containerd.metadata.v1"}}, kTime),
      R"(time="2026-01-02T03:04:05.123456789Z" level=info msg="loading plugin" id=rocksdb type=io.containerd.metadata.v1)");
}

TEST(Log, TextQuotesAndEscapes) {
  EXPECT_EQ(
      log::FormatLine(log::Format::kText, log::Level::kWarn, "ready",
                      {{"path", "/run/a b"}, {"err", "say \"hi\"\n"}, {"empty", ""}}, kTime),
      R"(time="2026-01-02T03:04:05.123456789Z" level=warning msg=ready path="/run/a b" err="say \"hi\"\n" empty="")");
  EXPECT_EQ(log::FormatLine(log::Format::kText, log::Level::kDebug, "x", {}, kTime),
            R"(time="2026-01-02T03:04:05.123456789Z" level=debug msg=x)");
}

TEST(Log, Json) {
  std::string line = log::FormatLine(log::Format::kJson, log::Level::kError, "failed \"x\"",
                                     {{"error", "boom"}, {"id", "a"}}, kTime);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "failed \"x\"");
  EXPECT_EQ(j["time"], kTime);
  EXPECT_EQ(j["error"], "boom");
  EXPECT_EQ(j["id"], "a");
  EXPECT_EQ(j.size(), 5u);
  // logrus sorts keys.
  EXPECT_EQ(
      line,
      R"({"error":"boom","id":"a","level":"error","msg":"failed \"x\"","time":"2026-01-02T03:04:05.123456789Z"})");
}

TEST(Log, ParseLevel) {
  log::Level l;
  ASSERT_TRUE(log::ParseLevel("warn", &l));
  EXPECT_EQ(l, log::Level::kWarn);
  ASSERT_TRUE(log::ParseLevel("panic", &l));
  EXPECT_EQ(l, log::Level::kFatal);
  EXPECT_FALSE(log::ParseLevel("verbose", &l));
}

}  // namespace
}  // namespace mcd
