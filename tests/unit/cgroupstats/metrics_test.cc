// cgroupstats on a fake /proc and cgroupfs tree: which files containerd's
// cgroups v1 Stat reads, how it parses them and what it leaves out.
#include "runtime/cgroupstats/metrics.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "pkg/errdefs.h"
#include "pkg/fs.h"

namespace mcd::cgroupstats {
namespace {

constexpr pid_t kPid = 4242;

class FakeTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcd-cgstats-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    roots_.proc = dir_ + "/proc";
    roots_.hugepages = dir_ + "/hugepages";
    cg_ = dir_ + "/cgroup";
    Write("proc/self/uid_map", "         0          0 4294967295\n");
    Write("proc/partitions",
          "major minor  #blocks  name\n\n 254        0   10485760 vda\n 254        1    "
          "10484719 vda1\n");
  }
  void TearDown() override { fs::RemoveAll(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::path p = dir_ + "/" + rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void Mkdir(const std::string& rel) { std::filesystem::create_directories(dir_ + "/" + rel); }

  // A mountinfo line for a v1 hierarchy mounted at <cgroup>/<dir>.
  std::string Mount(int id, const std::string& dir, const std::string& opts,
                    const std::string& root = "/") {
    return std::to_string(id) + " 30 0:" + std::to_string(id) + " " + root + " " + cg_ + "/" + dir +
           " rw,nosuid,nodev,noexec,relatime shared:" + std::to_string(id) +
           " - cgroup cgroup rw," + opts + "\n";
  }

  // A typical systemd host: cpu and cpuacct joined (with the two symlinks),
  // the rest one a hierarchy; rdma not mounted at all.
  void HostTree() {
    Write("proc/self/mountinfo",
          "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
          "30 22 0:27 / " +
              cg_ + " ro,nosuid - tmpfs tmpfs ro,mode=755\n" +
              Mount(31, "systemd", "xattr,name=systemd") + Mount(32, "cpu,cpuacct", "cpu,cpuacct") +
              Mount(33, "memory", "memory") + Mount(34, "pids", "pids") +
              Mount(35, "blkio", "blkio") + Mount(36, "hugetlb", "hugetlb") +
              Mount(37, "freezer", "freezer"));
    Write("proc/" + std::to_string(kPid) + "/cgroup",
          "10:hugetlb:/default/m1\n"
          "9:freezer:/default/m1\n"
          "7:blkio:/default/m1\n"
          "6:pids:/default/m1\n"
          "4:memory:/default/m1\n"
          "3:cpu,cpuacct:/default/m1\n"
          "1:name=systemd:/default/m1\n"
          "0::/\n");
    Mkdir("cgroup/systemd/default/m1");
    std::filesystem::create_directory_symlink("cpu,cpuacct", cg_ + "/cpu");
    std::filesystem::create_directory_symlink("cpu,cpuacct", cg_ + "/cpuacct");
    // freezer is mounted but this cgroup's directory is gone: skipped.
    Mkdir("cgroup/freezer");
    Mkdir("hugepages/hugepages-2048kB");
    Mkdir("hugepages/hugepages-1048576kB");

    const std::string c = "cgroup/cpu,cpuacct/default/m1/";
    Write(c + "cpu.stat",
          "nr_periods 12\nnr_throttled 3\nthrottled_time 4567\nnr_bursts 0\nburst_time 0\n");
    Write(c + "cpuacct.stat", "user 250\nsystem 37\n");
    Write(c + "cpuacct.usage", "2933441123\n");
    Write(c + "cpuacct.usage_percpu", "1933441123 1000000000 \n");

    const std::string m = "cgroup/memory/default/m1/";
    Write(m + "memory.stat",
          "cache 4096\nrss 1052672\nrss_huge 0\nshmem 0\nmapped_file 8192\ndirty 12\n"
          "writeback 13\nswap 0\npgpgin 300\npgpgout 40\npgfault 500\npgmajfault 6\n"
          "inactive_anon 1048576\nactive_anon 4096\ninactive_file 2048\nactive_file 1024\n"
          "unevictable 7\nhierarchical_memory_limit 67108864\n"
          "hierarchical_memsw_limit 9223372036854771712\ntotal_cache 14096\ntotal_rss 11052672\n"
          "total_rss_huge 2097152\ntotal_shmem 0\ntotal_mapped_file 18192\ntotal_dirty 112\n"
          "total_writeback 113\ntotal_swap 0\ntotal_pgpgin 1300\ntotal_pgpgout 140\n"
          "total_pgfault 1500\ntotal_pgmajfault 16\ntotal_inactive_anon 11048576\n"
          "total_active_anon 14096\ntotal_inactive_file 12048\ntotal_active_file 11024\n"
          "total_unevictable 17\n");
    Write(m + "memory.oom_control", "oom_kill_disable 1\nunder_oom 0\noom_kill 2\n");
    Write(m + "memory.usage_in_bytes", "1060864\n");
    Write(m + "memory.max_usage_in_bytes", "2060864\n");
    Write(m + "memory.failcnt", "5\n");
    Write(m + "memory.limit_in_bytes", "67108864\n");
    Write(m + "memory.memsw.usage_in_bytes", "1160864\n");
    Write(m + "memory.memsw.max_usage_in_bytes", "2160864\n");
    Write(m + "memory.memsw.failcnt", "0\n");
    Write(m + "memory.memsw.limit_in_bytes", "9223372036854771712\n");
    Write(m + "memory.kmem.usage_in_bytes", "40960\n");
    Write(m + "memory.kmem.max_usage_in_bytes", "81920\n");
    Write(m + "memory.kmem.failcnt", "1\n");
    Write(m + "memory.kmem.limit_in_bytes", "-1\n");  // old kernels: negative reads as 0
    Write(m + "memory.kmem.tcp.usage_in_bytes", "0\n");
    Write(m + "memory.kmem.tcp.max_usage_in_bytes", "0\n");
    Write(m + "memory.kmem.tcp.failcnt", "0\n");
    Write(m + "memory.kmem.tcp.limit_in_bytes", "9223372036854771712\n");

    Write("cgroup/pids/default/m1/pids.current", "3\n");
    Write("cgroup/pids/default/m1/pids.max", "max\n");

    const std::string b = "cgroup/blkio/default/m1/";
    Write(b + "blkio.io_serviced_recursive",
          "254:0 Read 10\n254:0 Write 20\n254:0 Sync 25\n254:0 Async 5\n254:0 Discard 0\n"
          "254:0 Total 30\n8:0 Read 1\nTotal 31\n");
    Write(b + "blkio.io_service_bytes_recursive",
          "254:0 Read 40960\n254:0 Write 81920\nTotal 122880\n");
    Write(b + "blkio.sectors_recursive", "254:0 240\n");
    for (const char* f : {"io_queued_recursive", "io_service_time_recursive",
                          "io_wait_time_recursive", "io_merged_recursive", "time_recursive"}) {
      Write(b + "blkio." + f, "Total 0\n");
    }
    Write(b + "blkio.throttle.io_serviced", "254:0 Read 999\n");

    const std::string h = "cgroup/hugetlb/default/m1/";
    Write(h + "hugetlb.2MB.usage_in_bytes", "4194304\n");
    Write(h + "hugetlb.2MB.max_usage_in_bytes", "6291456\n");
    Write(h + "hugetlb.2MB.failcnt", "2\n");
    Write(h + "hugetlb.1GB.usage_in_bytes", "0\n");
    Write(h + "hugetlb.1GB.max_usage_in_bytes", "0\n");
    Write(h + "hugetlb.1GB.failcnt", "0\n");
  }

  std::string dir_, cg_;
  Roots roots_;
};

TEST_F(FakeTree, HostTreeAllControllers) {
  HostTree();
  // The cgroup root comes from mountinfo, as containerd finds it.
  Metrics m = Read(kPid, roots_);

  ASSERT_TRUE(m.has_pids());
  EXPECT_EQ(m.pids().current(), 3u);
  EXPECT_EQ(m.pids().limit(), 0u);  // "max"

  ASSERT_TRUE(m.has_cpu());
  EXPECT_EQ(m.cpu().usage().total(), 2933441123u);
  EXPECT_EQ(m.cpu().usage().user(), 2500000000u);  // 250 ticks of 10ms, in ns
  EXPECT_EQ(m.cpu().usage().kernel(), 370000000u);
  ASSERT_EQ(m.cpu().usage().per_cpu_size(), 2);
  EXPECT_EQ(m.cpu().usage().per_cpu(0), 1933441123u);
  EXPECT_EQ(m.cpu().usage().per_cpu(1), 1000000000u);
  EXPECT_EQ(m.cpu().throttling().periods(), 12u);
  EXPECT_EQ(m.cpu().throttling().throttled_periods(), 3u);
  EXPECT_EQ(m.cpu().throttling().throttled_time(), 4567u);

  ASSERT_TRUE(m.has_memory());
  const auto& mem = m.memory();
  EXPECT_EQ(mem.cache(), 4096u);
  EXPECT_EQ(mem.rss(), 1052672u);
  EXPECT_EQ(mem.mapped_file(), 8192u);
  EXPECT_EQ(mem.dirty(), 12u);
  EXPECT_EQ(mem.writeback(), 13u);
  EXPECT_EQ(mem.pg_pg_in(), 300u);
  EXPECT_EQ(mem.pg_pg_out(), 40u);
  EXPECT_EQ(mem.pg_fault(), 500u);
  EXPECT_EQ(mem.pg_maj_fault(), 6u);
  EXPECT_EQ(mem.inactive_anon(), 1048576u);
  EXPECT_EQ(mem.active_anon(), 4096u);
  EXPECT_EQ(mem.inactive_file(), 2048u);
  EXPECT_EQ(mem.active_file(), 1024u);
  EXPECT_EQ(mem.unevictable(), 7u);
  EXPECT_EQ(mem.hierarchical_memory_limit(), 67108864u);
  EXPECT_EQ(mem.hierarchical_swap_limit(), 9223372036854771712u);  // hierarchical_memsw_limit
  EXPECT_EQ(mem.total_cache(), 14096u);
  EXPECT_EQ(mem.total_rss(), 11052672u);
  EXPECT_EQ(mem.total_rss_huge(), 2097152u);
  EXPECT_EQ(mem.total_mapped_file(), 18192u);
  EXPECT_EQ(mem.total_dirty(), 112u);
  EXPECT_EQ(mem.total_writeback(), 113u);
  EXPECT_EQ(mem.total_pg_pg_in(), 1300u);
  EXPECT_EQ(mem.total_pg_pg_out(), 140u);
  EXPECT_EQ(mem.total_pg_fault(), 1500u);
  EXPECT_EQ(mem.total_pg_maj_fault(), 16u);
  EXPECT_EQ(mem.total_inactive_anon(), 11048576u);
  EXPECT_EQ(mem.total_active_anon(), 14096u);
  EXPECT_EQ(mem.total_inactive_file(), 12048u);
  EXPECT_EQ(mem.total_active_file(), 11024u);
  EXPECT_EQ(mem.total_unevictable(), 17u);
  EXPECT_EQ(mem.usage().usage(), 1060864u);
  EXPECT_EQ(mem.usage().max(), 2060864u);
  EXPECT_EQ(mem.usage().failcnt(), 5u);
  EXPECT_EQ(mem.usage().limit(), 67108864u);
  EXPECT_EQ(mem.swap().usage(), 1160864u);
  EXPECT_EQ(mem.swap().max(), 2160864u);
  EXPECT_EQ(mem.swap().limit(), 9223372036854771712u);
  EXPECT_EQ(mem.kernel().usage(), 40960u);
  EXPECT_EQ(mem.kernel().max(), 81920u);
  EXPECT_EQ(mem.kernel().failcnt(), 1u);
  EXPECT_EQ(mem.kernel().limit(), 0u);
  EXPECT_TRUE(mem.has_kernel_tcp());
  EXPECT_EQ(mem.kernel_tcp().limit(), 9223372036854771712u);
  ASSERT_TRUE(m.has_memory_oom_control());
  EXPECT_EQ(m.memory_oom_control().oom_kill_disable(), 1u);
  EXPECT_EQ(m.memory_oom_control().under_oom(), 0u);
  EXPECT_EQ(m.memory_oom_control().oom_kill(), 2u);

  ASSERT_TRUE(m.has_blkio());
  const auto& bio = m.blkio();
  // Recursive files present: the throttle ones are not read; "Total" lines
  // are skipped; a device missing from /proc/partitions has no name.
  ASSERT_EQ(bio.io_serviced_recursive_size(), 7);
  EXPECT_EQ(bio.io_serviced_recursive(0).device(), "/dev/vda");
  EXPECT_EQ(bio.io_serviced_recursive(0).major(), 254u);
  EXPECT_EQ(bio.io_serviced_recursive(0).minor(), 0u);
  EXPECT_EQ(bio.io_serviced_recursive(0).op(), "Read");
  EXPECT_EQ(bio.io_serviced_recursive(0).value(), 10u);
  EXPECT_EQ(bio.io_serviced_recursive(5).op(), "Total");
  EXPECT_EQ(bio.io_serviced_recursive(5).value(), 30u);
  EXPECT_EQ(bio.io_serviced_recursive(6).device(), "");
  EXPECT_EQ(bio.io_serviced_recursive(6).major(), 8u);
  ASSERT_EQ(bio.io_service_bytes_recursive_size(), 2);
  EXPECT_EQ(bio.io_service_bytes_recursive(1).op(), "Write");
  EXPECT_EQ(bio.io_service_bytes_recursive(1).value(), 81920u);
  ASSERT_EQ(bio.sectors_recursive_size(), 1);
  EXPECT_EQ(bio.sectors_recursive(0).op(), "");  // major:minor value
  EXPECT_EQ(bio.sectors_recursive(0).value(), 240u);
  EXPECT_EQ(bio.io_queued_recursive_size(), 0);

  // Sizes in /sys/kernel/mm/hugepages order (by name), named as containerd does.
  ASSERT_EQ(m.hugetlb_size(), 2);
  EXPECT_EQ(m.hugetlb(0).pagesize(), "1GB");
  EXPECT_EQ(m.hugetlb(1).pagesize(), "2MB");
  EXPECT_EQ(m.hugetlb(1).usage(), 4194304u);
  EXPECT_EQ(m.hugetlb(1).max(), 6291456u);
  EXPECT_EQ(m.hugetlb(1).failcnt(), 2u);

  EXPECT_FALSE(m.has_rdma());  // not mounted
  EXPECT_EQ(m.network_size(), 0);
  EXPECT_FALSE(m.has_cgroup_stats());
}

TEST_F(FakeTree, LoadResolvesEachController) {
  HostTree();
  Cgroup cg = Load(kPid, roots_);
  std::vector<std::string> names, dirs;
  for (const auto& s : cg.subsystems) {
    names.push_back(s.name);
    dirs.push_back(s.dir);
  }
  // freezer's directory is missing; rdma, net_cls... are not mounted.
  EXPECT_EQ(names, (std::vector<std::string>{"systemd", "pids", "cpu", "cpuacct", "memory", "blkio",
                                             "hugetlb"}));
  EXPECT_EQ(dirs[0], cg_ + "/systemd/default/m1");
  EXPECT_EQ(dirs[2], cg_ + "/cpu/default/m1");
  EXPECT_EQ(dirs[3], cg_ + "/cpuacct/default/m1");
}

TEST_F(FakeTree, LoadedCgroupStatsAfterTheProcessExits) {
  // A v1 task keeps the cgroup it loaded at create: the process gone, its
  // cgroup (still there until the task is deleted) is read all the same.
  HostTree();
  Cgroup cg = Load(kPid, roots_);
  std::filesystem::remove_all(roots_.proc + "/" + std::to_string(kPid));
  EXPECT_EQ(Stat(cg).pids().current(), 3u);
  EXPECT_THROW(Load(kPid, roots_), errdefs::Error);
}

TEST_F(FakeTree, PathsRelativeToTheMountRoot) {
  // Inside a container, the hierarchy is mounted from the container's cgroup.
  Write("proc/self/mountinfo", Mount(33, "memory", "memory", "/docker/abc"));
  Write("proc/1/cgroup", "4:memory:/docker/abc/sub\n");
  Mkdir("cgroup/memory/sub");
  Cgroup cg = Load(1, roots_);
  ASSERT_EQ(cg.subsystems.size(), 1u);
  EXPECT_EQ(cg.subsystems[0].dir, cg_ + "/memory/sub");
}

TEST_F(FakeTree, PathAtTheMountRootKeepsIt) {
  // containerd quirk: a process in the mount's own root cgroup resolves to
  // the root's path, not to "/".
  Write("proc/self/mountinfo", Mount(33, "memory", "memory", "/docker/abc"));
  Write("proc/1/cgroup", "4:memory:/docker/abc\n");
  Mkdir("cgroup/memory/docker/abc");
  Cgroup cg = Load(1, roots_);
  ASSERT_EQ(cg.subsystems.size(), 1u);
  EXPECT_EQ(cg.subsystems[0].dir, cg_ + "/memory/docker/abc");
}

TEST_F(FakeTree, ThrottleFilesWhenNoRecursiveStats) {
  HostTree();
  const std::string b = "cgroup/blkio/default/m1/";
  for (const char* f : {"io_serviced_recursive", "io_service_bytes_recursive", "sectors_recursive",
                        "io_queued_recursive", "io_service_time_recursive",
                        "io_wait_time_recursive", "io_merged_recursive", "time_recursive"}) {
    std::filesystem::remove(dir_ + "/" + b + "blkio." + f);
  }
  Write(b + "blkio.throttle.io_serviced", "254:1 Read 3\n254:1 Write 4\n254:1 Total 7\nTotal 7\n");
  Write(b + "blkio.throttle.io_service_bytes", "254:1 Read 4096\n");
  Metrics m = Read(kPid, roots_);
  const auto& bio = m.blkio();
  ASSERT_EQ(bio.io_serviced_recursive_size(), 3);
  EXPECT_EQ(bio.io_serviced_recursive(1).device(), "/dev/vda1");
  EXPECT_EQ(bio.io_serviced_recursive(1).op(), "Write");
  EXPECT_EQ(bio.io_serviced_recursive(1).value(), 4u);
  ASSERT_EQ(bio.io_service_bytes_recursive_size(), 1);
  EXPECT_EQ(bio.io_service_bytes_recursive(0).value(), 4096u);
  EXPECT_EQ(bio.sectors_recursive_size(), 0);
}

TEST_F(FakeTree, ThrottleFilesWhenRecursiveStatsAreEmpty) {
  HostTree();
  const std::string b = "cgroup/blkio/default/m1/";
  Write(b + "blkio.io_serviced_recursive", "Total 0\n");
  Write(b + "blkio.io_service_bytes_recursive", "Total 0\n");
  Write(b + "blkio.sectors_recursive", "");
  Write(b + "blkio.throttle.io_service_bytes", "");
  Metrics m = Read(kPid, roots_);
  ASSERT_EQ(m.blkio().io_serviced_recursive_size(), 1);
  EXPECT_EQ(m.blkio().io_serviced_recursive(0).value(), 999u);
}

TEST_F(FakeTree, MissingFileEndsOnlyThatController) {
  HostTree();
  // No swap accounting: the memory part stops at memsw, keeping usage; kmem
  // and kmem.tcp stay zero though their files exist.
  for (const char* f : {"usage_in_bytes", "max_usage_in_bytes", "failcnt", "limit_in_bytes"}) {
    std::filesystem::remove(dir_ + "/cgroup/memory/default/m1/memory.memsw." + f);
  }
  // cpuacct without usage_percpu: no usage at all (set together), cpu.stat still read.
  std::filesystem::remove(dir_ + "/cgroup/cpu,cpuacct/default/m1/cpuacct.usage_percpu");
  // pids without pids.max: no pids.
  std::filesystem::remove(dir_ + "/cgroup/pids/default/m1/pids.max");
  Metrics m = Read(kPid, roots_);

  ASSERT_TRUE(m.has_memory());
  EXPECT_EQ(m.memory().usage().usage(), 1060864u);
  EXPECT_EQ(m.memory().usage().limit(), 67108864u);
  EXPECT_TRUE(m.memory().has_swap());
  EXPECT_EQ(m.memory().swap().usage(), 0u);
  EXPECT_EQ(m.memory().kernel().usage(), 0u);
  EXPECT_TRUE(m.memory().has_kernel_tcp());
  EXPECT_EQ(m.memory().cache(), 4096u);
  EXPECT_TRUE(m.has_memory_oom_control());

  ASSERT_TRUE(m.has_cpu());
  EXPECT_TRUE(m.cpu().has_usage());
  EXPECT_EQ(m.cpu().usage().total(), 0u);
  EXPECT_EQ(m.cpu().usage().user(), 0u);
  EXPECT_EQ(m.cpu().throttling().periods(), 12u);

  EXPECT_FALSE(m.has_pids());
  EXPECT_TRUE(m.has_blkio());
  EXPECT_EQ(m.hugetlb_size(), 2);
}

TEST_F(FakeTree, MissingMemoryStatLeavesNoMemory) {
  HostTree();
  std::filesystem::remove(dir_ + "/cgroup/memory/default/m1/memory.stat");
  Metrics m = Read(kPid, roots_);
  EXPECT_FALSE(m.has_memory());
  EXPECT_FALSE(m.has_memory_oom_control());
  EXPECT_TRUE(m.has_pids());
}

TEST_F(FakeTree, PidsLimit) {
  HostTree();
  Write("cgroup/pids/default/m1/pids.max", "64\n");
  EXPECT_EQ(Read(kPid, roots_).pids().limit(), 64u);
}

TEST_F(FakeTree, Rdma) {
  Write("proc/self/mountinfo", Mount(38, "rdma", "rdma"));
  Write("proc/1/cgroup", "11:rdma:/c\n");
  Write("cgroup/rdma/c/rdma.current", "mlx4_0 hca_handle=2 hca_object=2000\nbad\n");
  Write("cgroup/rdma/c/rdma.max", "mlx4_0 hca_handle=max hca_object=30\nocrdma1 x y\n");
  Metrics m = Read(1, roots_);
  ASSERT_TRUE(m.has_rdma());
  ASSERT_EQ(m.rdma().current_size(), 1);
  EXPECT_EQ(m.rdma().current(0).device(), "mlx4_0");
  EXPECT_EQ(m.rdma().current(0).hca_handles(), 2u);
  EXPECT_EQ(m.rdma().current(0).hca_objects(), 2000u);
  ASSERT_EQ(m.rdma().limit_size(), 2);
  EXPECT_EQ(m.rdma().limit(0).hca_handles(), 4294967295u);
  EXPECT_EQ(m.rdma().limit(0).hca_objects(), 30u);
  EXPECT_EQ(m.rdma().limit(1).device(), "ocrdma1");
  EXPECT_EQ(m.rdma().limit(1).hca_handles(), 0u);
  // With nothing but rdma, cpu is still there, empty (containerd always sets it).
  EXPECT_TRUE(m.cpu().has_usage());
  EXPECT_TRUE(m.cpu().has_throttling());
}

TEST_F(FakeTree, NoProcessIsNotFound) {
  HostTree();
  try {
    Read(999999, roots_);
    FAIL() << "expected NotFound";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kNotFound);
    EXPECT_NE(std::string(e.what()).find(roots_.proc + "/999999/cgroup"), std::string::npos)
        << e.what();
  }
}

TEST_F(FakeTree, AllCgroupsGoneIsNotFound) {
  HostTree();
  Write("proc/7/cgroup", "6:pids:/gone\n4:memory:/gone\n");
  try {
    Read(7, roots_);
    FAIL() << "expected NotFound";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kNotFound) << e.what();
  }
}

TEST_F(FakeTree, UnreadableFileNamesIt) {
  HostTree();
  const std::string f = dir_ + "/cgroup/pids/default/m1/pids.current";
  std::filesystem::remove(f);
  std::filesystem::create_directory(f);  // read(2) fails: EISDIR
  try {
    Read(kPid, roots_);
    FAIL() << "expected an error";
  } catch (const errdefs::Error& e) {
    EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST_F(FakeTree, MalformedFileNamesIt) {
  HostTree();
  Write("cgroup/memory/default/m1/memory.stat", "cache 1\nrss 2 3\n");
  try {
    Read(kPid, roots_);
    FAIL() << "expected an error";
  } catch (const errdefs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("memory.stat"), std::string::npos) << e.what();
  }
}

TEST_F(FakeTree, UnmountedControllerInCgroupFileFails) {
  // containerd resolves every controller the process lists; one without a
  // v1 mount fails the load.
  HostTree();
  Write("proc/8/cgroup", "12:misc:/x\n4:memory:/default/m1\n");
  EXPECT_THROW(Read(8, roots_), errdefs::Error);
}

TEST_F(FakeTree, ExplicitCgroupRoot) {
  HostTree();
  // Mount points elsewhere; the root given wins.
  std::string text = "31 30 0:28 / /nowhere/memory rw - cgroup cgroup rw,memory\n";
  Write("proc/self/mountinfo", text);
  Write("proc/9/cgroup", "4:memory:/default/m1\n");
  roots_.cgroup = cg_;
  EXPECT_EQ(Read(9, roots_).memory().usage().limit(), 67108864u);
}

TEST(CgroupStats, AnyCarriesContainerdsTypeUrl) {
  Metrics m;
  m.mutable_pids()->set_current(3);
  google::protobuf::Any any = ToAny(m);
  EXPECT_EQ(any.type_url(), "io.containerd.cgroups.v1.Metrics");
  Metrics back;
  ASSERT_TRUE(back.ParseFromString(any.value()));
  EXPECT_EQ(back.pids().current(), 3u);
}

}  // namespace
}  // namespace mcd::cgroupstats
