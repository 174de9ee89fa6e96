#include "runtime/v2/host_dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pkg/cgroup_mounts.h"
#include "pkg/errdefs.h"
#include "pkg/fd.h"
#include "pkg/fs.h"
#include "pkg/log.h"

namespace mcd::runtime {

HostDirs::HostDirs(std::vector<std::string> cgroup_dirs, std::string socket_dir)
    : cgroup_dirs_(std::move(cgroup_dirs)), socket_dir_(std::move(socket_dir)) {}

std::vector<std::string> HostDirs::CgroupRoots() {
  std::vector<std::string> out;
  for (const auto& m : cgroups::Mounts())
    if (m.root == "/") out.push_back(m.mountpoint);
  return out;
}

void HostDirs::Persist(std::string file) {
  std::lock_guard lk(mu_);
  file_ = std::move(file);
  auto text = fs::ReadFileIfExists(file_);
  if (!text) return;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '/') seen_[line] = true;
}

void HostDirs::NoteMissing(const std::string& dir) {
  std::lock_guard lk(mu_);
  std::string added;
  Collect(dir, added);
  Append(added);
}

void HostDirs::Collect(const std::string& dir, std::string& added) {
  std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
  if (!p.is_absolute()) return;
  std::string at;
  for (const auto& part : p.relative_path()) {
    if (part.empty() || part == "." || part == "..") break;
    at += "/" + part.string();
    auto [it, fresh] = seen_.try_emplace(at, false);
    if (!fresh) continue;
    struct stat st;
    it->second = ::lstat(at.c_str(), &st) != 0 && errno == ENOENT;
    if (it->second) added += at + "\n";
  }
}

void HostDirs::Append(const std::string& added) {
  if (added.empty() || file_.empty()) return;
  // Rare (a namespace's first task): one append, before the runtime makes them.
  UniqueFd fd(::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd || ::write(fd.get(), added.data(), added.size()) < 0)
    log::Warn("cannot keep host directory notes",
              {{"file", file_}, {"error", errdefs::ErrnoText(errno)}});
}

void HostDirs::NoteTask(const std::string& ns, const std::string& runc_root,
                        const std::string& spec_json) {
  std::vector<std::string> dirs = {socket_dir_};
  if (!runc_root.empty()) dirs.push_back(runc_root + "/" + ns);
  auto spec = nlohmann::json::parse(spec_json, nullptr, false);
  auto linux = spec.is_object() ? spec.find("linux") : spec.end();
  if (linux != spec.end() && linux->is_object()) {
    auto path = linux->find("cgroupsPath");
    if (path != linux->end() && path->is_string()) {
      const std::string cg = path->get<std::string>();
      // Normalised first: "/../x" is "/x", inside each hierarchy. The path
      // itself is runc's (made at create, removed at delete): what stays
      // behind are the parents it makes on the way, such as the namespace's.
      auto rel = std::filesystem::path(cg).lexically_normal();
      if (!rel.has_filename()) rel = rel.parent_path();
      const std::string parent = rel.parent_path().string();
      if (!cg.empty() && cg[0] == '/' && !parent.empty() && parent != "/") {
        for (const auto& root : cgroup_dirs_) dirs.push_back(root + parent);
      }
    }
  }
  std::lock_guard lk(mu_);
  std::string added;
  for (const auto& d : dirs) Collect(d, added);
  Append(added);
}

void HostDirs::RemoveEmpty() {
  std::vector<std::string> ours = Noted();
  // Deepest first: a parent empties once its children are gone.
  std::sort(ours.begin(), ours.end(), [](const std::string& a, const std::string& b) {
    auto depth = [](const std::string& s) { return std::count(s.begin(), s.end(), '/'); };
    return depth(a) != depth(b) ? depth(a) > depth(b) : a > b;
  });
  std::string left;
  for (const auto& d : ours) {
    if (::rmdir(d.c_str()) == 0 || errno == ENOENT) {
      std::lock_guard lk(mu_);
      seen_.erase(d);
    } else {
      left += d + "\n";  // not empty: it stays, and stays noted
    }
  }
  std::lock_guard lk(mu_);
  if (file_.empty()) return;
  try {
    if (left.empty())
      ::unlink(file_.c_str());
    else
      fs::WriteFileAtomic(file_, left, 0600);
  } catch (const std::exception& e) {
    log::Warn("cannot keep host directory notes", {{"file", file_}, {"error", e.what()}});
  }
}

std::vector<std::string> HostDirs::Noted() const {
  std::vector<std::string> out;
  std::lock_guard lk(mu_);
  for (const auto& [path, missing] : seen_)
    if (missing) out.push_back(path);
  return out;
}

}  // namespace mcd::runtime
