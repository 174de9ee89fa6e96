// `minicontainerd oci-hook -- CMD ARGS`, as runc runs a prestart hook written
// for `containerd oci-hook` (containerd's TestContainerHook: `ps --pid
// {{pid}}`): the state on stdin, the templates rendered in the arguments and
// the environment, the command exec'd with its own flags untouched.
#include <gtest/gtest.h>

#include "pkg/fs.h"
#include "pkg/process.h"
#include "tests/integration/support/harness.h"

namespace mcd::itest {
namespace {

TEST(OciHook, RendersTheStateIntoTheCommand) {
  TempDir dir;
  const std::string bundle = dir.path() + "/bundle";
  fs::MkdirAll(bundle + "/rootfs", 0755);
  fs::WriteFileAtomic(bundle + "/config.json", R"({"root":{"path":"rootfs"}})");
  process::Options o;
  o.argv = {MCD_DAEMON_BINARY, "oci-hook",   "--",
            "/bin/sh",         "-c",         "echo \"$0|$1|$2|$HOOK_ID\"",
            "{{pid}}",         "{{rootfs}}", "{{annotation \"a\"}}"};
  o.extra_env = {"HOOK_ID={{id}}"};
  o.stdin_data = R"({"ociVersion":"1.0.2","id":"c1","status":"created","pid":4242,"bundle":")" +
                 bundle + R"(","annotations":{"a":"b"}})";
  auto r = process::Run(o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "4242|" + bundle + "/rootfs|b|c1\n");

  // A template containerd does not define fails the hook.
  o.argv = {MCD_DAEMON_BINARY, "oci-hook", "--", "/bin/echo", "{{nope}}"};
  o.extra_env = {};
  r = process::Run(o);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("function \"nope\" not defined"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mcd::itest
