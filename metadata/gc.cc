#include "metadata/gc.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "mcd/containers.pb.h"
#include "mcd/images.pb.h"
#include "pkg/log.h"

namespace mcd::metadata::gc {
namespace {

thread_local bool t_collecting = false;

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// Images and containers are roots and are never collected themselves.
Resource ImagesAndContainers() {
  Resource r;
  r.name = "images+containers";
  r.roots = [](Txn& t, const std::string& ns, const Emit& emit) {
    t.Scan(BucketPrefix(ns, "images"), [&](std::string_view, std::string_view v) {
      records::Image img;
      if (!img.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
      if (!img.target().digest().empty()) {
        emit(Node{Kind::kContent, ns, img.target().digest()});
      }
      LabelRefsOf(ns, img.labels(), emit);
      return true;
    });
    t.Scan(BucketPrefix(ns, "containers"), [&](std::string_view, std::string_view v) {
      records::Container c;
      if (!c.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
      if (!c.snapshotter().empty()) {
        emit(Node{Kind::kSnapshot, ns, c.snapshotter() + "/" + c.snapshot_key()});
      }
      LabelRefsOf(ns, c.labels(), emit);
      return true;
    });
  };
  return r;
}

int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

void LabelRefs(const std::string& ns, const Labels& labels, const Emit& emit) {
  for (auto it = labels.lower_bound(std::string(kLabelContentRef));
       it != labels.end() && StartsWith(it->first, kLabelContentRef); ++it) {
    std::string_view rest = std::string_view(it->first).substr(kLabelContentRef.size());
    // Named references are ".<x>" or "/<x>"; anything else is another label.
    if (!rest.empty() && rest[0] != '.' && rest[0] != '/') continue;
    emit(Node{Kind::kContent, ns, it->second});
  }
  for (auto it = labels.lower_bound(std::string(kLabelSnapshotRef));
       it != labels.end() && StartsWith(it->first, kLabelSnapshotRef); ++it) {
    std::string sn = it->first.substr(kLabelSnapshotRef.size());
    if (auto slash = sn.find('/'); slash != std::string::npos) sn.resize(slash);
    emit(Node{Kind::kSnapshot, ns, sn + "/" + it->second});
  }
}

std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  int y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  int h = Digits(s, 11, 2), mi = Digits(s, 14, 2), se = Digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      se < 0 || se > 60 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000;
    size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || pos + 3 >= s.size() || s[pos + 3] != ':') return std::nullopt;
    offset = (oh * 60 + om) * 60 * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  time_t secs = timegm(&tm) - offset;
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs)) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::nanoseconds(nanos));
}

Collector::Collector(DB& db) : db_(db) {
  resources_.push_back(ImagesAndContainers());
}

void Collector::Register(Resource r) {
  std::lock_guard lk(mu_);
  resources_.push_back(std::move(r));
}

bool Collector::InCollection() {
  return t_collecting;
}

Stats Collector::Collect() {
  std::lock_guard run(run_mu_);
  auto start = std::chrono::steady_clock::now();
  std::vector<Resource> resources;
  {
    std::lock_guard lk(mu_);
    resources = resources_;
  }
  auto owner = [&](Kind k) -> const Resource* {
    for (const auto& r : resources) {
      if (std::find(r.kinds.begin(), r.kinds.end(), k) != r.kinds.end()) return &r;
    }
    return nullptr;
  };

  Stats stats;
  std::map<const Resource*, std::shared_ptr<void>> held;
  for (const auto& r : resources) {
    if (r.hold) held[&r] = r.hold();
  }
  std::map<const Resource*, std::vector<Node>> removed;
  t_collecting = true;
  struct Reset {
    ~Reset() { t_collecting = false; }
  } reset;

  db_.Update([&](Txn& t) {
    removed.clear();
    // Mark: everything reachable from the roots. A flat node and a normal
    // one are different marks (a snapshot reached both ways follows its
    // labels), but both keep the resource.
    std::set<Node> marked;
    std::vector<Node> work;
    Emit push = [&](Node n) {
      if (marked.insert(n).second) work.push_back(std::move(n));
    };
    auto namespaces = db_.Namespaces();
    for (const auto& ns : namespaces) {
      for (const auto& r : resources) {
        if (r.roots) r.roots(t, ns, push);
      }
    }
    while (!work.empty()) {
      Node n = std::move(work.back());
      work.pop_back();
      if (const Resource* r = owner(n.kind); r && r->refs) r->refs(t, n, push);
    }
    auto is_marked = [&](const Node& n) {
      Node a = n, b = n;
      a.flat = false;
      b.flat = true;
      return marked.count(a) > 0 || marked.count(b) > 0;
    };
    stats.marked = marked.size();

    // Sweep: every candidate not marked.
    for (const auto& ns : namespaces) {
      for (const auto& r : resources) {
        if (!r.all) continue;
        std::vector<Node> dead;
        r.all(t, ns, [&](Node n) {
          if (!is_marked(n)) dead.push_back(std::move(n));
        });
        for (auto& n : dead) {
          const Resource* o = owner(n.kind);
          if (!o || !o->remove) continue;
          o->remove(t, n);
          log::Debug("gc: remove", {{"namespace", n.ns}, {"key", n.key}, {"resource", o->name}});
          removed[o].push_back(std::move(n));
          ++stats.removed;
        }
      }
    }
  });
  t_collecting = false;

  for (const auto& r : resources) {
    if (!r.cleanup) continue;
    auto it = removed.find(&r);
    static const std::vector<Node> kNone;
    const auto& nodes = it == removed.end() ? kNone : it->second;
    try {
      r.cleanup(nodes);
    } catch (const std::exception& e) {
      log::Warn("garbage collection cleanup failed", {{"resource", r.name}, {"error", e.what()}});
    }
  }
  stats.elapsed = std::chrono::steady_clock::now() - start;
  return stats;
}

}  // namespace mcd::metadata::gc
