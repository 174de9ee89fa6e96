// Stat: each controller's files into the Metrics message, as the Stat
// methods of containerd/cgroups' v1 controllers fill it.
#include <sys/stat.h>

#include <limits>
#include <map>

#include "pkg/errdefs.h"
#include "pkg/strings.h"
#include "runtime/cgroupstats/files.h"
#include "runtime/cgroupstats/metrics.h"

namespace mcd::cgroupstats {
namespace {

namespace v1 = io::containerd::cgroups::v1;
using detail::Fields;
using detail::Lines;
using detail::NotExist;
using detail::ParseKV;
using detail::ReadFile;
using detail::ReadUint;

void StatPids(const std::string& dir, Metrics& m) {
  uint64_t current = ReadUint(dir + "/pids.current");
  const std::string max_file = dir + "/pids.max";
  const std::string max = TrimSpace(ReadFile(max_file));
  // "max": no limit, reported as 0.
  uint64_t limit = max == "max" ? 0 : detail::ParseCgroupUint(max, 64, max_file);
  m.mutable_pids()->set_current(current);
  m.mutable_pids()->set_limit(limit);
}

void StatCpu(const std::string& dir, Metrics& m) {
  const std::string file = dir + "/cpu.stat";
  std::string text = ReadFile(file);
  auto* t = m.mutable_cpu()->mutable_throttling();
  for (std::string_view line : Lines(text)) {
    auto [key, v] = ParseKV(line, file);
    if (key == "nr_periods") {
      t->set_periods(v);
    } else if (key == "nr_throttled") {
      t->set_throttled_periods(v);
    } else if (key == "throttled_time") {
      t->set_throttled_time(v);
    }
  }
}

// cpuacct.stat counts USER_HZ ticks; containerd reports nanoseconds with the
// tick rate fixed at 100 (Linux's USER_HZ everywhere).
constexpr uint64_t kClockTicks = 100;
constexpr uint64_t kNanosPerSecond = 1000000000;

void StatCpuacct(const std::string& dir, Metrics& m) {
  const std::string stat_file = dir + "/cpuacct.stat";
  std::string stat = ReadFile(stat_file);
  auto f = Fields(stat);
  if (f.size() != 4) {
    throw errdefs::Unknown("\"" + stat_file + "\" is expected to have 4 fields");
  }
  for (auto [i, name] : {std::pair{0, "user"}, std::pair{2, "system"}}) {
    if (f[i] != name) {
      throw errdefs::Unknown("expected field \"" + std::string(name) + "\" but found \"" +
                             std::string(f[i]) + "\" in \"" + stat_file + "\"");
    }
  }
  uint64_t user = detail::ParseUint(f[1], 64, stat_file);
  uint64_t kernel = detail::ParseUint(f[3], 64, stat_file);
  uint64_t total = ReadUint(dir + "/cpuacct.usage");
  const std::string percpu_file = dir + "/cpuacct.usage_percpu";
  std::string percpu_text = ReadFile(percpu_file);
  std::vector<uint64_t> percpu;
  for (std::string_view v : Fields(percpu_text)) {
    percpu.push_back(detail::ParseUint(v, 64, percpu_file));
  }
  auto* u = m.mutable_cpu()->mutable_usage();
  u->set_total(total);
  // containerd multiplies before dividing (in uint64, as here).
  u->set_user(user * kNanosPerSecond / kClockTicks);
  u->set_kernel(kernel * kNanosPerSecond / kClockTicks);
  u->clear_per_cpu();
  for (uint64_t v : percpu) u->add_per_cpu(v);
}

// "key value" lines into a map (later duplicates win, as in containerd).
std::map<std::string, uint64_t, std::less<>> ReadKVs(const std::string& file) {
  std::string text = ReadFile(file);
  std::map<std::string, uint64_t, std::less<>> raw;
  int n = 0;
  for (std::string_view line : Lines(text)) {
    try {
      auto [k, v] = ParseKV(line, file);
      raw[std::string(k)] = v;
    } catch (const errdefs::Error& e) {
      throw errdefs::Unknown("line " + std::to_string(n) + ": " + e.what());
    }
    ++n;
  }
  return raw;
}

void StatMemory(const std::string& dir, Metrics& m) {
  auto raw = ReadKVs(dir + "/memory.stat");
  auto get = [&](std::string_view k) {
    auto it = raw.find(k);
    return it == raw.end() ? 0 : it->second;
  };
  v1::MemoryStat* s = m.mutable_memory();
  s->mutable_usage();
  s->mutable_swap();
  s->mutable_kernel();
  s->mutable_kernel_tcp();
  s->set_cache(get("cache"));
  s->set_rss(get("rss"));
  s->set_rss_huge(get("rss_huge"));
  s->set_mapped_file(get("mapped_file"));
  s->set_dirty(get("dirty"));
  s->set_writeback(get("writeback"));
  s->set_pg_pg_in(get("pgpgin"));
  s->set_pg_pg_out(get("pgpgout"));
  s->set_pg_fault(get("pgfault"));
  s->set_pg_maj_fault(get("pgmajfault"));
  s->set_inactive_anon(get("inactive_anon"));
  s->set_active_anon(get("active_anon"));
  s->set_inactive_file(get("inactive_file"));
  s->set_active_file(get("active_file"));
  s->set_unevictable(get("unevictable"));
  s->set_hierarchical_memory_limit(get("hierarchical_memory_limit"));
  s->set_hierarchical_swap_limit(get("hierarchical_memsw_limit"));
  s->set_total_cache(get("total_cache"));
  s->set_total_rss(get("total_rss"));
  s->set_total_rss_huge(get("total_rss_huge"));
  s->set_total_mapped_file(get("total_mapped_file"));
  s->set_total_dirty(get("total_dirty"));
  s->set_total_writeback(get("total_writeback"));
  s->set_total_pg_pg_in(get("total_pgpgin"));
  s->set_total_pg_pg_out(get("total_pgpgout"));
  s->set_total_pg_fault(get("total_pgfault"));
  s->set_total_pg_maj_fault(get("total_pgmajfault"));
  s->set_total_inactive_anon(get("total_inactive_anon"));
  s->set_total_active_anon(get("total_active_anon"));
  s->set_total_inactive_file(get("total_inactive_file"));
  s->set_total_active_file(get("total_active_file"));
  s->set_total_unevictable(get("total_unevictable"));

  auto oom = ReadKVs(dir + "/memory.oom_control");
  auto oget = [&](std::string_view k) {
    auto it = oom.find(k);
    return it == oom.end() ? 0 : it->second;
  };
  v1::MemoryOomControl* o = m.mutable_memory_oom_control();
  o->set_oom_kill_disable(oget("oom_kill_disable"));
  o->set_under_oom(oget("under_oom"));
  o->set_oom_kill(oget("oom_kill"));

  // Each entry's four files, in containerd's order: a missing one (no swap
  // accounting, say) ends the memory part with the values read so far.
  struct Entry {
    const char* prefix;
    v1::MemoryEntry* e;
  };
  for (const Entry& t :
       {Entry{"memory.", s->mutable_usage()}, Entry{"memory.memsw.", s->mutable_swap()},
        Entry{"memory.kmem.", s->mutable_kernel()},
        Entry{"memory.kmem.tcp.", s->mutable_kernel_tcp()}}) {
    const std::string p = dir + "/" + t.prefix;
    t.e->set_usage(ReadUint(p + "usage_in_bytes"));
    t.e->set_max(ReadUint(p + "max_usage_in_bytes"));
    t.e->set_failcnt(ReadUint(p + "failcnt"));
    t.e->set_limit(ReadUint(p + "limit_in_bytes"));
  }
}

// "/dev/<name>" for each major:minor in /proc/partitions (first wins).
std::map<std::pair<uint64_t, uint64_t>, std::string> Partitions(const std::string& proc) {
  const std::string file = proc + "/partitions";
  std::string text = ReadFile(file);
  std::map<std::pair<uint64_t, uint64_t>, std::string> out;
  auto lines = Lines(text);
  for (size_t i = 2; i < lines.size(); ++i) {  // header and blank line
    auto f = Fields(lines[i]);
    if (f.size() < 4) continue;
    auto key = std::pair{detail::ParseUint(f[0], 64, file), detail::ParseUint(f[1], 64, file)};
    out.emplace(key, "/dev/" + std::string(f[3]));
  }
  return out;
}

// One blkio file: "major:minor [op] value" lines; a "Total n" line is skipped.
void ReadBlkioEntries(const std::map<std::pair<uint64_t, uint64_t>, std::string>& devices,
                      const std::string& file,
                      google::protobuf::RepeatedPtrField<v1::BlkIOEntry>* entries) {
  std::string text = ReadFile(file);
  for (std::string_view line : Lines(text)) {
    auto f = detail::FieldsBy(line, " :");
    if (f.size() < 3) {
      if (f.size() == 2 && f[0] == "Total") continue;
      throw errdefs::Unknown("invalid line found while parsing " + file + ": " + std::string(line));
    }
    uint64_t major = detail::ParseUint(f[0], 64, file);
    uint64_t minor = detail::ParseUint(f[1], 64, file);
    std::string_view op;
    std::string_view value = f[2];
    if (f.size() == 4) {
      op = f[2];
      value = f[3];
    }
    uint64_t v = detail::ParseUint(value, 64, file);
    v1::BlkIOEntry* e = entries->Add();
    auto dev = devices.find({major, minor});
    if (dev != devices.end()) e->set_device(dev->second);
    e->set_major(major);
    e->set_minor(minor);
    e->set_op(std::string(op));
    e->set_value(v);
  }
}

void StatBlkio(const std::string& dir, const std::string& proc, Metrics& m) {
  v1::BlkIOStat* b = m.mutable_blkio();
  using Field = google::protobuf::RepeatedPtrField<v1::BlkIOEntry>* (v1::BlkIOStat::*)();
  struct Setting {
    const char* name;
    Field field;
  };
  std::vector<Setting> settings;
  // The recursive files come with CFQ (and the legacy stats); without them
  // containerd falls back to the throttle counters.
  struct stat st;
  if (::lstat((dir + "/blkio.io_serviced_recursive").c_str(), &st) == 0) {
    settings = {
        {"sectors_recursive", &v1::BlkIOStat::mutable_sectors_recursive},
        {"io_service_bytes_recursive", &v1::BlkIOStat::mutable_io_service_bytes_recursive},
        {"io_serviced_recursive", &v1::BlkIOStat::mutable_io_serviced_recursive},
        {"io_queued_recursive", &v1::BlkIOStat::mutable_io_queued_recursive},
        {"io_service_time_recursive", &v1::BlkIOStat::mutable_io_service_time_recursive},
        {"io_wait_time_recursive", &v1::BlkIOStat::mutable_io_wait_time_recursive},
        {"io_merged_recursive", &v1::BlkIOStat::mutable_io_merged_recursive},
        {"time_recursive", &v1::BlkIOStat::mutable_io_time_recursive},
    };
  }
  auto devices = Partitions(proc);
  int size = 0;
  for (const auto& s : settings) {
    auto* entries = (b->*s.field)();
    ReadBlkioEntries(devices, dir + "/blkio." + s.name, entries);
    size += entries->size();
  }
  if (size > 0) return;
  ReadBlkioEntries(devices, dir + "/blkio.throttle.io_serviced",
                   b->mutable_io_serviced_recursive());
  ReadBlkioEntries(devices, dir + "/blkio.throttle.io_service_bytes",
                   b->mutable_io_service_bytes_recursive());
}

void StatHugetlb(const std::string& dir, const std::vector<std::string>& sizes, Metrics& m) {
  for (const auto& size : sizes) {
    const std::string p = dir + "/hugetlb." + size + ".";
    uint64_t usage = ReadUint(p + "usage_in_bytes");
    uint64_t max = ReadUint(p + "max_usage_in_bytes");
    uint64_t failcnt = ReadUint(p + "failcnt");
    v1::HugetlbStat* h = m.add_hugetlb();
    h->set_pagesize(size);
    h->set_usage(usage);
    h->set_max(max);
    h->set_failcnt(failcnt);
  }
}

// "hca_handle=N" / "hca_object=N" ("max" is 2^32-1); anything else is ignored.
void ParseRdmaKV(std::string_view kv, v1::RdmaEntry* e) {
  size_t eq = kv.find('=');
  if (eq == std::string_view::npos || kv.find('=', eq + 1) != std::string_view::npos) return;
  std::string_view key = kv.substr(0, eq), val = kv.substr(eq + 1);
  uint32_t v = std::numeric_limits<uint32_t>::max();
  if (val != "max") {
    try {
      v = static_cast<uint32_t>(detail::ParseCgroupUint(val, 32, ""));
    } catch (const errdefs::Error&) {
      return;
    }
  }
  if (key == "hca_handle") {
    e->set_hca_handles(v);
  } else if (key == "hca_object") {
    e->set_hca_objects(v);
  }
}

void RdmaEntries(const std::vector<std::string_view>& lines,
                 google::protobuf::RepeatedPtrField<v1::RdmaEntry>* out) {
  for (std::string_view line : lines) {
    auto f = Fields(line);
    if (f.size() != 3) continue;
    v1::RdmaEntry* e = out->Add();
    e->set_device(std::string(f[0]));
    ParseRdmaKV(f[1], e);
    ParseRdmaKV(f[2], e);
  }
}

// strings.Split(text, "\n"): a trailing newline gives a last empty piece.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t i = text.find('\n');
    out.push_back(text.substr(0, i));
    if (i == std::string_view::npos) return out;
    text.remove_prefix(i + 1);
  }
}

void StatRdma(const std::string& dir, Metrics& m) {
  std::string current = ReadFile(dir + "/rdma.current");
  std::string max = ReadFile(dir + "/rdma.max");
  auto cur_lines = SplitLines(current), max_lines = SplitLines(max);
  if (cur_lines.size() != max_lines.size()) return;  // changed between reads
  v1::RdmaStat* r = m.mutable_rdma();
  RdmaEntries(cur_lines, r->mutable_current());
  RdmaEntries(max_lines, r->mutable_limit());
}

}  // namespace

Metrics Stat(const Cgroup& cg) {
  Metrics m;
  // containerd always sends cpu.usage and cpu.throttling, even empty.
  m.mutable_cpu()->mutable_usage();
  m.mutable_cpu()->mutable_throttling();
  for (const auto& s : cg.subsystems) {
    try {
      if (s.name == "pids") {
        StatPids(s.dir, m);
      } else if (s.name == "cpu") {
        StatCpu(s.dir, m);
      } else if (s.name == "cpuacct") {
        StatCpuacct(s.dir, m);
      } else if (s.name == "memory") {
        StatMemory(s.dir, m);
      } else if (s.name == "blkio") {
        StatBlkio(s.dir, cg.proc, m);
      } else if (s.name == "hugetlb") {
        StatHugetlb(s.dir, cg.hugepage_sizes, m);
      } else if (s.name == "rdma") {
        StatRdma(s.dir, m);
      }
    } catch (const NotExist&) {
      // cgroups.IgnoreNotExist: the controller's part ends here.
    }
  }
  return m;
}

Metrics Read(pid_t pid) {
  return Stat(Load(pid));
}

Metrics Read(pid_t pid, const Roots& roots) {
  return Stat(Load(pid, roots));
}

google::protobuf::Any ToAny(const Metrics& m) {
  google::protobuf::Any any;
  any.set_type_url(std::string(kTypeUrl));
  m.SerializeToString(any.mutable_value());
  return any;
}

}  // namespace mcd::cgroupstats
