#include "pkg/cgroup_mounts.h"

#include <algorithm>
#include <sstream>

#include "pkg/fs.h"

namespace mcd::cgroups {

bool Mount::Has(std::string_view option) const {
  return std::find(options.begin(), options.end(), option) != options.end();
}

std::vector<Mount> ParseMounts(std::string_view mountinfo) {
  std::vector<Mount> out;
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    // "<id> <parent> <maj:min> <root> <mountpoint> <opts> [optional...] - <fstype> <src> <super>"
    std::istringstream f(line);
    std::vector<std::string> fields;
    for (std::string w; f >> w;) fields.push_back(w);
    auto sep = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || sep == fields.end() || sep + 1 == fields.end()) continue;
    const std::string& fstype = *(sep + 1);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    Mount m{.mountpoint = fields[4], .root = fields[3], .v2 = fstype == "cgroup2"};
    if (sep + 3 < fields.end()) {
      std::istringstream opts(*(sep + 3));
      for (std::string o; std::getline(opts, o, ',');) m.options.push_back(o);
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Mount> Mounts() {
  auto text = fs::ReadFileIfExists("/proc/self/mountinfo");
  return text ? ParseMounts(*text) : std::vector<Mount>{};
}

std::vector<Mount> Hierarchies(std::string_view mountinfo) {
  std::vector<Mount> v1, v2;
  for (auto& m : ParseMounts(mountinfo)) (m.v2 ? v2 : v1).push_back(std::move(m));
  if (!v1.empty()) return v1;
  if (!v2.empty()) return {v2.front()};
  return {};
}

}  // namespace mcd::cgroups
