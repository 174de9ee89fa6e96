// The task monitor plugin as containerd 1.6.20 lists it: `ctr plugins ls`
// shows io.containerd.monitor.v1 / cgroups on the default platform, ok,
// requiring the event plugin, initialised before the tasks service that
// uses it.
#include <sys/utsname.h>

#include <algorithm>

#include "tests/integration/foundation/common.h"

namespace mcd::itest {
namespace {

TEST_F(DaemonTest, PluginsLsShowsTheCgroupsTaskMonitor) {
  utsname u{};
  ::uname(&u);
  ASSERT_EQ(std::string(u.machine), "x86_64") << "the expected platform below is linux/amd64";
  auto r = C({"plugins", "ls"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = Rows(r.out);
  auto at = [&](const std::string& type, const std::string& id) {
    return std::find_if(rows.begin(), rows.end(), [&](const auto& row) {
      return row.size() >= 2 && row[0] == type && row[1] == id;
    });
  };
  auto mon = at("io.containerd.monitor.v1", "cgroups");
  ASSERT_NE(mon, rows.end()) << r.out;
  EXPECT_EQ(*mon,
            (std::vector<std::string>{"io.containerd.monitor.v1", "cgroups", "linux/amd64", "ok"}));
  auto tasks = at("io.containerd.service.v1", "tasks-service");
  ASSERT_NE(tasks, rows.end()) << r.out;
  EXPECT_LT(mon - rows.begin(), tasks - rows.begin()) << r.out;

  r = C({"plugins", "ls", "-d", "type==io.containerd.monitor.v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Rows(r.out),
            (std::vector<std::vector<std::string>>{{"Type:", "io.containerd.monitor.v1"},
                                                   {"ID:", "cgroups"},
                                                   {"Requires:"},
                                                   {"io.containerd.event.v1"},
                                                   {"Platforms:", "linux/amd64"}}))
      << r.out;
}

}  // namespace
}  // namespace mcd::itest
