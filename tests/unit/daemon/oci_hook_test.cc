// containerd's oci-hook templates: {{id}} {{pid}} {{bundle}} {{rootfs}}
// {{status}} {{annotation "k"}}; anything else is an error, as Go's
// text/template with containerd's function map.
#include "daemon/oci_hook.h"

#include <gtest/gtest.h>

namespace mcd::daemon {
namespace {

HookState State() {
  HookState st;
  st.id = "c1";
  st.pid = 4242;
  st.bundle = "/run/b/c1";
  st.status = "created";
  st.rootfs = "/run/b/c1/rootfs";
  st.annotations = {{"io.x/key", "v a l"}};
  return st;
}

TEST(OciHook, RendersEveryFunction) {
  auto st = State();
  EXPECT_EQ(RenderHookTemplate("--pid={{pid}}", st), "--pid=4242");
  EXPECT_EQ(RenderHookTemplate("{{id}}:{{ bundle }}:{{rootfs}}:{{status}}", st),
            "c1:/run/b/c1:/run/b/c1/rootfs:created");
  EXPECT_EQ(RenderHookTemplate("[{{annotation \"io.x/key\"}}]", st), "[v a l]");
  EXPECT_EQ(RenderHookTemplate("[{{annotation \"missing\"}}]", st), "[]");
}

TEST(OciHook, LeavesPlainTextAlone) {
  auto st = State();
  EXPECT_EQ(RenderHookTemplate("", st), "");
  EXPECT_EQ(RenderHookTemplate("/usr/bin/ps", st), "/usr/bin/ps");
  EXPECT_EQ(RenderHookTemplate("a } b { c", st), "a } b { c");
}

TEST(OciHook, RejectsUnknownOrMalformedActions) {
  auto st = State();
  EXPECT_THROW(RenderHookTemplate("{{nope}}", st), std::runtime_error);
  EXPECT_THROW(RenderHookTemplate("{{pid", st), std::runtime_error);
  EXPECT_THROW(RenderHookTemplate("{{pid \"x\"}}", st), std::runtime_error);
  EXPECT_THROW(RenderHookTemplate("{{annotation}}", st), std::runtime_error);
  EXPECT_THROW(RenderHookTemplate("{{annotation key}}", st), std::runtime_error);
}

}  // namespace
}  // namespace mcd::daemon
