// Snapshots, layer apply and unpack with the real ctr: import unpacks,
// images mount, whiteouts on overlayfs and native, hostile layers, the
// snapshot commands and their errors (wording as containerd 1.6.20).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "pkg/fd.h"
#include "pkg/fs.h"
#include "pkg/mount.h"
#include "tests/integration/support/harness.h"
#include "tests/integration/support/image_builder.h"

namespace mcd::itest {
namespace {

namespace img = image;

class SnapshotsIT : public ::testing::Test {
 protected:
  void SetUp() override {
    Require("ctr");
    d_ = std::make_unique<Daemon>(tmp_.path());
    d_->Start();
  }
  void TearDown() override {
    for (const auto& m : mounts_) mount::UnmountAll(m, MNT_DETACH);
  }

  process::Result C(const std::vector<std::string>& args, const std::string& ns = "default") {
    return Ctr(*d_, args, ns);
  }
  std::string Ok(const std::vector<std::string>& args, const std::string& ns = "default") {
    auto r = C(args, ns);
    EXPECT_EQ(r.exit_code, 0) << "ctr " << args[0] << " " << (args.size() > 1 ? args[1] : "")
                              << "\nout: " << r.out << "\nerr: " << r.err << "\n"
                              << d_->Log();
    return r.out;
  }
  // The error line ctr prints ("ctr: ..."), trimmed.
  std::string Err(const std::vector<std::string>& args) {
    auto r = C(args);
    EXPECT_NE(r.exit_code, 0) << r.out;
    std::string e = r.err;
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
  }
  std::string Import(const std::vector<img::Image>& images, std::vector<std::string> extra = {}) {
    std::string tar = tmp_.path() + "/image-" + std::to_string(n_++) + ".tar";
    img::WriteOciArchive(images, tar);
    std::vector<std::string> args = {"images", "import"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(tar);
    return Ok(args);
  }
  std::string MountPoint() {
    std::string p = tmp_.path() + "/mnt-" + std::to_string(n_++);
    fs::MkdirAll(p, 0711);
    mounts_.push_back(p);
    return p;
  }
  // Runs a synchronous collection (a lease removed with --sync): a view
  // made after it is not collected by one a previous commit scheduled.
  // ctr gives views no gc.root label, so on containerd, as here, they live
  // until the next collection.
  void GcSync() {
    Ok({"leases", "create", "--id", "gc-sync"});
    Ok({"leases", "rm", "--sync", "gc-sync"});
  }
  std::string SnapRoot(const std::string& sn = "overlayfs") {
    return d_->root() + "/io.containerd.snapshotter.v1." + sn + "/snapshots";
  }

  TempDir tmp_;
  std::unique_ptr<Daemon> d_;
  std::vector<std::string> mounts_;
  int n_ = 0;
};

// Every path under root with a short description, for exact tree checks.
std::map<std::string, std::string> Tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    std::string rel = it->path().string().substr(root.size() + 1);
    if (it->is_symlink()) {
      out[rel] = "-> " + std::filesystem::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      out[rel] = "dir";
    } else if (it->is_regular_file()) {
      out[rel] = fs::ReadFile(it->path().string());
    } else {
      out[rel] = "other";
    }
  }
  return out;
}

// Waits (bounded, to fail rather than hang) for an inotify event and
// returns the names it carried.
std::vector<std::string> ReadEvents(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  if (::poll(&p, 1, 120000) != 1) return {};
  alignas(struct inotify_event) char buf[8192];
  ssize_t n = ::read(fd, buf, sizeof buf);
  std::vector<std::string> names;
  for (ssize_t off = 0; off < n;) {
    auto* ev = reinterpret_cast<struct inotify_event*>(buf + off);
    names.push_back(ev->len ? std::string(ev->name) : std::string());
    off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
  }
  return names;
}

// Waits until none of `names` exists in `dir`, `fd` watching it for
// IN_DELETE since before their removal was asked for. False on a timeout.
bool WaitRemoved(int fd, const std::string& dir, std::set<std::string> names) {
  for (;;) {
    std::erase_if(names, [&](const std::string& n) { return !fs::Exists(dir + "/" + n); });
    if (names.empty()) return true;
    if (ReadEvents(fd).empty()) return false;
  }
}

TEST_F(SnapshotsIT, SnapshotCommandsAndErrors) {
  std::string sroot = SnapRoot();
  EXPECT_EQ(Ok({"snapshots", "prepare", "k1"}), "");
  EXPECT_EQ(Err({"snapshots", "prepare", "k1"}), "ctr: snapshot \"k1\": already exists");
  EXPECT_EQ(Err({"snapshots", "prepare", "k2", "nope"}),
            "ctr: parent snapshot nope does not exist: not found");
  EXPECT_EQ(Ok({"snapshots", "mounts", "/tmp/x", "k1"}),
            "mount -t bind " + sroot + "/1/fs /tmp/x -o rw,rbind\n");
  { std::ofstream(sroot + "/1/fs/hello") << "world"; }
  Ok({"snapshots", "commit", "c1", "k1"});
  EXPECT_EQ(Err({"snapshots", "commit", "c1", "k1"}), "ctr: snapshot \"c1\": already exists");
  Ok({"snapshots", "--snapshotter", "native", "prepare", "n1"});
  Ok({"snapshots", "--snapshotter", "native", "commit", "nc1", "n1"});
  EXPECT_EQ(Err({"snapshots", "--snapshotter", "native", "mounts", "/tmp/x", "nc1"}),
            "ctr: failed to get snapshot mount: requested snapshot default/2/nc1 not active or "
            "view: failed precondition");
  GcSync();
  Ok({"snapshots", "prepare", "k2", "c1"});
  Ok({"snapshots", "view", "v1", "c1"});
  EXPECT_EQ(Ok({"snapshots", "mounts", "/tmp/x", "k2"}),
            "mount -t overlay overlay /tmp/x -o index=off,workdir=" + sroot +
                "/2/work,upperdir=" + sroot + "/2/fs,lowerdir=" + sroot + "/1/fs\n");
  EXPECT_EQ(Ok({"snapshots", "mounts", "/tmp/x", "v1"}),
            "mount -t bind " + sroot + "/1/fs /tmp/x -o ro,rbind\n");
  // Committed snapshots have no mounts (backend keys "<ns>/<n>/<key>" count
  // per namespace and snapshotter, as containerd's).
  EXPECT_EQ(Err({"snapshots", "mounts", "/tmp/x", "c1"}),
            "ctr: failed to get active mount: requested snapshot default/2/c1 not active or "
            "view: failed precondition");
  EXPECT_EQ(Err({"snapshots", "rm", "c1"}),
            "ctr: failed to remove \"c1\": cannot remove snapshot with child: failed precondition");
  EXPECT_EQ(Err({"snapshots", "rm", "nope"}),
            "ctr: failed to remove \"nope\": snapshot nope does not exist: not found");
  EXPECT_EQ(Err({"snapshots", "info", "nope"}), "ctr: snapshot nope does not exist: not found");
  EXPECT_EQ(Err({"snapshots", "--snapshotter", "foo", "ls"}),
            "ctr: snapshotter not loaded: foo: invalid argument");
  EXPECT_EQ(Err({"snapshots", "commit", "c2", "v1"}),
            "ctr: failed to commit snapshot: snapshot \"default/4/v1\" is not active: failed "
            "precondition");
  EXPECT_EQ(Err({"snapshots", "view", "v2", "k2"}),
            "ctr: failed to create snapshot: parent \"default/3/k2\" is not committed snapshot: "
            "invalid argument");
  // An empty name is bolt's error in containerd (after the backend call, so
  // it uses up a backend id), and changes nothing.
  EXPECT_EQ(Err({"snapshots", "prepare", ""}), "ctr: bucket name required: unknown");
  EXPECT_EQ(Err({"snapshots", "view", ""}), "ctr: bucket name required: unknown");
  EXPECT_EQ(Err({"snapshots", "commit", "", "k2"}), "ctr: bucket name required: unknown");
  EXPECT_EQ(Err({"snapshots", "rm", ""}),
            "ctr: failed to remove \"\": snapshot  does not exist: not found");

  std::string info = Ok({"snapshots", "info", "c1"});
  EXPECT_NE(info.find("\"Kind\": \"Committed\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"Name\": \"c1\""), std::string::npos) << info;
  EXPECT_NE(info.find("containerd.io/gc.root"), std::string::npos) << info;
  std::string labels = Ok({"snapshots", "label", "c1", "foo=bar"});
  EXPECT_NE(labels.find("foo=bar"), std::string::npos) << labels;
  EXPECT_NE(Ok({"snapshots", "info", "c1"}).find("\"foo\": \"bar\""), std::string::npos);

  std::string usage = Ok({"snapshots", "usage", "c1"});
  EXPECT_NE(usage.find("c1"), std::string::npos);
  EXPECT_NE(usage.find(" 2 "), std::string::npos) << usage;  // the dir and hello
  std::string ls = Ok({"snapshots", "ls"});
  EXPECT_NE(ls.find("k2  c1     Active"), std::string::npos) << ls;
  EXPECT_NE(ls.find("v1  c1     View"), std::string::npos) << ls;
  std::string tree = Ok({"snapshots", "tree"});
  EXPECT_EQ(tree, " c1\n  \\_ k2\n  \\_ v1\n");

  // Names are per namespace: the same key elsewhere is another snapshot.
  Ok({"snapshots", "prepare", "k1"}, "other");
  EXPECT_EQ(Ok({"snapshots", "ls"}, "other").find("c1"), std::string::npos);

  // Directories go off the request path, after the records.
  UniqueFd in(::inotify_init1(IN_CLOEXEC));
  ASSERT_GE(::inotify_add_watch(in.get(), sroot.c_str(), IN_DELETE), 0);
  Ok({"snapshots", "rm", "v1"});
  Ok({"snapshots", "rm", "k2"});
  Ok({"snapshots", "rm", "c1"});
  EXPECT_TRUE(WaitRemoved(in.get(), sroot, {"1", "2"}));
}

TEST_F(SnapshotsIT, DiffOfASnapshot) {
  std::string sroot = SnapRoot();
  Ok({"snapshots", "prepare", "base-a"});
  { std::ofstream(sroot + "/1/fs/gone") << "g"; }
  { std::ofstream(sroot + "/1/fs/kept") << "k"; }
  Ok({"snapshots", "commit", "base", "base-a"});
  Ok({"snapshots", "prepare", "top", "base"});
  std::string mnt = MountPoint();
  auto r = C({"snapshots", "mounts", mnt, "top"});
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(Sh({"sh", "-c", r.out}).exit_code, 0);
  { std::ofstream(mnt + "/added") << "a"; }
  ASSERT_EQ(::unlink((mnt + "/gone").c_str()), 0);
  mount::UnmountAll(mnt);
  std::string layer = tmp_.path() + "/diff.tgz";
  auto d = C({"snapshots", "diff", "top"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  { std::ofstream(layer) << d.out; }
  auto t = Sh({"tar", "-tzvf", layer});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("added"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find(".wh.gone"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("kept"), std::string::npos) << t.out;
}

// The chain ids of an image's layers (OCI image spec): chain(1) = diff(1),
// chain(n) = sha256(chain(n-1) + " " + diff(n)).
std::vector<std::string> ChainIds(const img::Image& im) {
  std::vector<std::string> out;
  for (const auto& d : im.diff_ids) {
    out.push_back(out.empty() ? d : img::Sha256(out.back() + " " + d));
  }
  return out;
}

// `ctr snapshots ls` as rows of words (the table's padding is not the point).
std::set<std::vector<std::string>> Rows(const std::string& table) {
  std::set<std::vector<std::string>> rows;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    rows.insert(row);
  }
  return rows;
}

TEST_F(SnapshotsIT, ImportUnpacksAndImageMounts) {
  img::ImageSpec spec;  // busybox and a layer on top: a chain of two
  spec.layers.push_back(img::BusyboxLayer());
  spec.layers.push_back(
      {{img::Dir("etc"), img::File("etc/motd", "hello\n")}, img::Compression::kZstd});
  auto bb = img::Build(spec);
  std::string out = Import({bb});
  EXPECT_NE(
      out.find("unpacking docker.io/library/busybox:latest (" + bb.manifest.digest + ")...done"),
      std::string::npos)
      << out;
  auto chain = ChainIds(bb);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(
      Rows(Ok({"snapshots", "ls"})),
      (std::set<std::vector<std::string>>{
          {"KEY", "PARENT", "KIND"}, {chain[0], "Committed"}, {chain[1], chain[0], "Committed"}}));
  EXPECT_EQ(Ok({"snapshots", "tree"}), " " + chain[0] + "\n  \\_ " + chain[1] + "\n");
  // The layer blobs got containerd's uncompressed label from the client.
  std::string content = Ok({"content", "ls"});
  EXPECT_NE(content.find("containerd.io/uncompressed=" + bb.diff_ids[0]), std::string::npos)
      << content;
  EXPECT_NE(content.find("containerd.io/uncompressed=" + bb.diff_ids[1]), std::string::npos)
      << content;

  std::string mnt = MountPoint();
  EXPECT_EQ(Ok({"images", "mount", "docker.io/library/busybox:latest", mnt}),
            chain[1] + "\n" + mnt + "\n");
  EXPECT_TRUE(mount::IsMountPoint(mnt));
  auto r = Sh({"ls", mnt + "/bin"});
  EXPECT_NE(r.out.find("busybox\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sh\n"), std::string::npos) << r.out;
  EXPECT_EQ(fs::ReadFile(mnt + "/etc/motd"), "hello\n");
  EXPECT_EQ(std::filesystem::file_size(mnt + "/bin/busybox"),
            std::filesystem::file_size("/bin/busybox"));
  // The view under the target path (also the lease id) hangs off the chain.
  EXPECT_EQ(Ok({"snapshots", "tree"}),
            " " + chain[0] + "\n  \\_ " + chain[1] + "\n    \\_ " + mnt + "\n");
  EXPECT_NE(Ok({"leases", "ls", "-q"}).find(mnt + "\n"), std::string::npos);
  EXPECT_EQ(Ok({"images", "unmount", mnt}), mnt + "\n");
  EXPECT_FALSE(mount::IsMountPoint(mnt));
  EXPECT_TRUE(std::filesystem::is_empty(mnt));
  // Without --rm the view stays (as containerd); with --rm it goes with its lease.
  EXPECT_NE(Ok({"snapshots", "ls"}).find(mnt), std::string::npos);
  Ok({"images", "mount", "docker.io/library/busybox:latest", mnt});
  EXPECT_TRUE(mount::IsMountPoint(mnt));
  Ok({"images", "unmount", "--rm", mnt});
  EXPECT_FALSE(mount::IsMountPoint(mnt));
  EXPECT_EQ(Ok({"snapshots", "ls"}).find(mnt), std::string::npos);
  EXPECT_EQ(Ok({"leases", "ls", "-q"}).find(mnt), std::string::npos);
}

// containerd takes any non-empty lease id (ctr images mount uses the target
// path); ids that extend each other keep their own resources.
TEST_F(SnapshotsIT, LeaseIdsWithSlashes) {
  for (const char* id : {"/tmp/x", "a/b", "a", "a%2Fb", "/tmp/x/sub"}) {
    EXPECT_EQ(Ok({"leases", "create", "--id", id}), std::string(id) + "\n");
  }
  EXPECT_EQ(Err({"leases", "create", "--id", "a/b"}), "ctr: lease \"a/b\": already exists");
  EXPECT_EQ(Ok({"leases", "ls", "-q"}), "/tmp/x\n/tmp/x/sub\na\na%2Fb\na/b\n");
  EXPECT_EQ(Ok({"leases", "rm", "a/b", "/tmp/x"}), "a/b\n/tmp/x\n");
  EXPECT_EQ(Ok({"leases", "ls", "-q"}), "/tmp/x/sub\na\na%2Fb\n");
  EXPECT_EQ(Err({"leases", "rm", "a/b"}), "ctr: lease \"a/b\": not found");
}

// An image 120 layers deep: its overlay options are far over the kernel's
// one-page limit on mount data. The daemon mounts them itself for
// `ctr snapshots diff` (lower and upper trees), from the layers' common
// directory with relative lowerdirs.
TEST_F(SnapshotsIT, DeepChainMountsPastThePageLimit) {
  img::ImageSpec spec;
  spec.name = "example.com/deep:latest";
  const int n = 120;
  for (int i = 0; i < n; ++i) {
    img::Layer l{{img::File("top", std::to_string(i)), img::File("only-" + std::to_string(i), "x")},
                 img::Compression::kNone};
    if (i == n - 1) l.entries.push_back(img::Whiteout("only-0"));
    spec.layers.push_back(std::move(l));
  }
  auto im = img::Build(spec);
  auto chain = ChainIds(im);
  Import({im});

  // ctr mounts this one itself (containerd's client code); it must see
  // the layers in order.
  std::string mnt = MountPoint();
  Ok({"images", "mount", spec.name, mnt});
  EXPECT_EQ(fs::ReadFile(mnt + "/top"), std::to_string(n - 1));
  EXPECT_FALSE(fs::Exists(mnt + "/only-0"));
  EXPECT_TRUE(fs::Exists(mnt + "/only-1"));
  EXPECT_TRUE(fs::Exists(mnt + "/only-" + std::to_string(n - 1)));
  Ok({"images", "unmount", "--rm", mnt});

  Ok({"snapshots", "prepare", "work", chain.back()});
  std::string cmd = Ok({"snapshots", "mounts", "/x", "work"});
  ASSERT_GT(cmd.size(), 2u * static_cast<size_t>(::getpagesize())) << cmd;
  auto up = cmd.find("upperdir=");
  ASSERT_NE(up, std::string::npos) << cmd;
  std::string upper = cmd.substr(up + 9, cmd.find(',', up) - up - 9);
  { std::ofstream(upper + "/added") << "new"; }
  // What overlay writes for a deleted lower file: a 0:0 character device.
  ASSERT_EQ(::mknod((upper + "/only-5").c_str(), S_IFCHR | 0600, 0), 0);
  auto d = C({"snapshots", "diff", "work"});
  ASSERT_EQ(d.exit_code, 0) << d.err << d_->Log();
  std::string layer = tmp_.path() + "/deep-diff.tgz";
  { std::ofstream(layer) << d.out; }
  auto t = Sh({"tar", "-tzf", layer});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out, "added\n.wh.only-5\n");
}

class ThreeLayers : public SnapshotsIT, public ::testing::WithParamInterface<std::string> {
 protected:
  // A read-only view of `parent` on the snapshotter under test, mounted with
  // the command `ctr snapshots mounts` prints (ctr images mount always uses
  // the default snapshotter, as ctr 1.6.20 does).
  std::string MountView(const std::string& key, const std::string& parent) {
    Ok({"snapshots", "--snapshotter", GetParam(), "view", key, parent});
    std::string mnt = MountPoint();
    std::string cmd = Ok({"snapshots", "--snapshotter", GetParam(), "mounts", mnt, key});
    auto r = Sh({"sh", "-c", cmd});
    EXPECT_EQ(r.exit_code, 0) << cmd << r.err;
    EXPECT_TRUE(mount::IsMountPoint(mnt)) << cmd;
    return mnt;
  }
};

TEST_P(ThreeLayers, WhiteoutsAndOpaqueDirs) {
  img::ImageSpec spec;
  spec.name = "example.com/three:latest";
  // 1: a/{keep,del}, d/{old,sub/x}; 2: deletes a/del (.wh.); 3: d opaque, d/new.
  spec.layers.push_back(
      {{img::Dir("a"), img::File("a/keep", "k"), img::File("a/del", "d"), img::Dir("d"),
        img::File("d/old", "o"), img::Dir("d/sub"), img::File("d/sub/x", "x")},
       img::Compression::kGzip});
  spec.layers.push_back({{img::Dir("a"), img::Whiteout("a/del")}, img::Compression::kNone});
  spec.layers.push_back(
      {{img::Dir("d"), img::Opaque("d"), img::File("d/new", "n")}, img::Compression::kZstd});
  auto im = img::Build(spec);
  auto chain = ChainIds(im);
  Import({im}, {"--snapshotter", GetParam()});
  GcSync();
  EXPECT_EQ(Rows(Ok({"snapshots", "--snapshotter", GetParam(), "ls"})),
            (std::set<std::vector<std::string>>{{"KEY", "PARENT", "KIND"},
                                                {chain[0], "Committed"},
                                                {chain[1], chain[0], "Committed"},
                                                {chain[2], chain[1], "Committed"}}));
  const std::map<std::string, std::string> want = {
      {"a", "dir"}, {"a/keep", "k"}, {"d", "dir"}, {"d/new", "n"}};
  const std::map<std::string, std::string> want1 = {
      {"a", "dir"},   {"a/keep", "k"},  {"a/del", "d"},  {"d", "dir"},
      {"d/old", "o"}, {"d/sub", "dir"}, {"d/sub/x", "x"}};
  std::string top = MountView("top", chain[2]);
  EXPECT_EQ(Tree(top), want);
  // The bottom layer alone still has everything the upper ones hide.
  std::string bottom = MountView("bottom", chain[0]);
  EXPECT_EQ(Tree(bottom), want1);
  // A container's writable snapshot on top sees the same tree.
  Ok({"snapshots", "--snapshotter", GetParam(), "prepare", "rw", chain[2]});
  std::string rw = MountPoint();
  std::string cmd = Ok({"snapshots", "--snapshotter", GetParam(), "mounts", rw, "rw"});
  ASSERT_EQ(Sh({"sh", "-c", cmd}).exit_code, 0) << cmd;
  EXPECT_EQ(Tree(rw), want);
  for (const auto& m : {top, bottom, rw}) mount::UnmountAll(m);

  if (GetParam() == "overlayfs") {
    // On overlayfs the layers keep the OCI whiteouts as overlay's own: a
    // 0:0 character device and an opaque directory (trusted.overlay.opaque).
    std::string sroot = SnapRoot();
    bool found_wh = false, found_opq = false;
    for (const auto& e : std::filesystem::directory_iterator(sroot)) {
      struct stat st;
      std::string wh = e.path().string() + "/fs/a/del";
      if (::lstat(wh.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0) {
        found_wh = true;
      }
      char v[8] = {};
      std::string d = e.path().string() + "/fs/d";
      if (::lgetxattr(d.c_str(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') {
        found_opq = true;
      }
    }
    EXPECT_TRUE(found_wh);
    EXPECT_TRUE(found_opq);
    // ctr images mount (overlayfs) shows the same tree.
    std::string mnt = MountPoint();
    Ok({"images", "mount", spec.name, mnt});
    EXPECT_EQ(Tree(mnt), want);
    Ok({"images", "unmount", "--rm", mnt});
  }
}

INSTANTIATE_TEST_SUITE_P(Snapshotters, ThreeLayers, ::testing::Values("overlayfs", "native"));

TEST_F(SnapshotsIT, HostileLayerStaysInside) {
  // Host files the layer aims at.
  std::string victim = tmp_.path() + "/victim";
  { std::ofstream(victim) << "host"; }
  struct stat before;
  ASSERT_EQ(::stat(victim.c_str(), &before), 0);
  std::string vrel = victim.substr(1);  // as a path from the image root
  std::string sroot = SnapRoot();
  std::string root_parent = sroot.substr(0, sroot.rfind('/'));
  auto host_paths = [&] {
    return std::vector<std::string>{"/escape",
                                    "/abs",
                                    "/through",
                                    sroot + "/escape",
                                    sroot + "/abs",
                                    root_parent + "/escape",
                                    tmp_.path() + "/escape"};
  };
  for (const auto& p : host_paths()) ASSERT_FALSE(fs::Exists(p)) << p;
  img::ImageSpec spec;
  spec.name = "example.com/hostile:latest";
  spec.layers.push_back(
      {{img::File("../escape", "e"), img::File("../../../../../../../../" + vrel, "dotdot"),
        img::File("/abs", "a"), img::Symlink("up", "/"), img::File("up/through", "t"),
        img::Symlink("hostlink", victim), img::File("hostlink", "replaced"), img::Dir("etc"),
        img::File("etc/hostname", "inside"), img::Hardlink("hl", "/etc/hostname"),
        img::Symlink("vdir", tmp_.path()), img::File("vdir/escape", "through-dir-link")},
       img::Compression::kGzip});
  Import({img::Build(spec)});
  EXPECT_EQ(fs::ReadFile(victim), "host");
  struct stat after;
  ASSERT_EQ(::stat(victim.c_str(), &after), 0);
  EXPECT_EQ(after.st_nlink, before.st_nlink);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  for (const auto& p : host_paths()) EXPECT_FALSE(fs::Exists(p)) << p;
  std::string mnt = MountPoint();
  Ok({"images", "mount", spec.name, mnt});
  EXPECT_EQ(fs::ReadFile(mnt + "/escape"), "e");
  EXPECT_EQ(fs::ReadFile(mnt + "/abs"), "a");
  EXPECT_EQ(fs::ReadFile(mnt + "/through"), "t");
  EXPECT_EQ(fs::ReadFile(mnt + "/" + vrel), "dotdot");
  EXPECT_EQ(fs::ReadFile(mnt + "/hostlink"), "replaced");
  EXPECT_EQ(fs::ReadFile(mnt + "/hl"), "inside");
  EXPECT_EQ(fs::ReadFile(mnt + tmp_.path() + "/escape"), "through-dir-link");
  Ok({"images", "unmount", "--rm", mnt});

  // A hard link to a file only the host has fails the unpack, untouched.
  img::ImageSpec bad;
  bad.name = "example.com/hardlink:latest";
  bad.layers.push_back({{img::Hardlink("hl", victim)}, img::Compression::kGzip});
  std::string tar = tmp_.path() + "/bad.tar";
  img::WriteOciArchive({img::Build(bad)}, tar);
  auto r = C({"images", "import", tar});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(fs::ReadFile(victim), "host");
  ASSERT_EQ(::stat(victim.c_str(), &after), 0);
  EXPECT_EQ(after.st_nlink, before.st_nlink);
  // Nothing of it was committed.
  EXPECT_EQ(Ok({"snapshots", "ls"}).find(img::Build(bad).diff_ids[0]), std::string::npos);
}

TEST_F(SnapshotsIT, RestartMidUnpackLeavesNoHalfCommittedSnapshot) {
  // A layer big enough that its extraction is still running when the
  // daemon dies.
  img::ImageSpec spec;
  spec.name = "example.com/big:latest";
  img::Layer layer;
  layer.compression = img::Compression::kGzip;
  std::mt19937_64 rng(7);
  std::string last;
  for (int i = 0; i < 24; ++i) {
    std::string data(4 << 20, '\0');
    for (size_t j = 0; j + 8 <= data.size(); j += 8) {
      uint64_t v = rng();
      std::memcpy(&data[j], &v, 8);
    }
    if (i == 23) last = data;
    layer.entries.push_back(img::File("f" + std::to_string(i), std::move(data)));
  }
  spec.layers.push_back(std::move(layer));
  auto big = img::Build(spec);
  std::string chain = big.diff_ids[0];
  std::string tar = tmp_.path() + "/big.tar";
  img::WriteOciArchive({big}, tar);
  Ok({"images", "import", "--no-unpack", tar});

  // Kill the daemon once the unpack's snapshot exists and the layer's first
  // file has been written into it (inotify, no polling): mid-extraction.
  std::string sroot = SnapRoot();
  UniqueFd in(::inotify_init1(IN_CLOEXEC));
  ASSERT_GE(in.get(), 0);
  ASSERT_GE(::inotify_add_watch(in.get(), sroot.c_str(), IN_CREATE), 0);
  std::thread unpack([&] {
    auto r = C({"images", "import", tar});  // unpacks: fails when the daemon dies
    EXPECT_NE(r.exit_code, 0) << r.out;
  });
  // A failed assertion below returns early: the daemon still dies, the
  // import with it, and the thread is joined.
  struct Joiner {
    Daemon& d;
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) {
        d.Kill();
        t.join();
      }
    }
  } joiner{*d_, unpack};
  std::string id;
  while (id.empty()) {
    auto names = ReadEvents(in.get());
    if (names.empty()) break;
    for (const auto& n : names) id = n;  // snapshot directories are made in place
  }
  ASSERT_FALSE(id.empty()) << "no snapshot directory appeared";
  // Its fs/ follows the directory itself.
  ASSERT_GE(::inotify_add_watch(in.get(), (sroot + "/" + id).c_str(), IN_CREATE), 0);
  while (!fs::Exists(sroot + "/" + id + "/fs")) {
    if (ReadEvents(in.get()).empty()) break;
  }
  ASSERT_GE(::inotify_add_watch(in.get(), (sroot + "/" + id + "/fs").c_str(), IN_CLOSE_WRITE), 0);
  bool written = false;
  while (!written) {
    auto names = ReadEvents(in.get());
    if (names.empty()) break;
    for (const auto& n : names) {
      written = written || (n.size() > 1 && n[0] == 'f' && std::isdigit(n[1]));  // not "fs"
    }
  }
  d_->Kill();
  unpack.join();
  ASSERT_TRUE(written) << "extraction never wrote a file";
  EXPECT_FALSE(fs::Exists(sroot + "/" + id + "/fs/f23"));  // really mid-way
  d_->Start();

  // Nothing committed; every backend directory belongs to a listed snapshot.
  std::string ls = Ok({"snapshots", "ls"});
  EXPECT_EQ(ls.find("Committed"), std::string::npos) << ls;
  // (The unpack's active key is "extract-<n>-<r> <chain id>".)
  EXPECT_EQ(ls.find("\n" + chain), std::string::npos) << ls;
  EXPECT_EQ(Err({"snapshots", "info", chain}),
            "ctr: snapshot " + chain + " does not exist: not found");
  size_t listed = std::count(ls.begin(), ls.end(), '\n') - 1;
  size_t dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(sroot)) {
    (void)e;
    ++dirs;
  }
  EXPECT_EQ(dirs, listed) << ls;

  // The unpack starts over and completes.
  Ok({"images", "import", tar});
  EXPECT_NE(Ok({"snapshots", "ls"}).find(chain), std::string::npos);
  std::string mnt = MountPoint();
  Ok({"images", "mount", spec.name, mnt});
  EXPECT_TRUE(fs::ReadFile(mnt + "/f23") == last);
  Ok({"images", "unmount", "--rm", mnt});
}

TEST_F(SnapshotsIT, ContainerSnapshotRemovedWithItAndImageSnapshotsCollected) {
  auto bb = img::Busybox();
  Import({bb});
  Ok({"containers", "create", "docker.io/library/busybox:latest", "c1"});
  std::string info = Ok({"containers", "info", "c1"});
  EXPECT_NE(info.find("\"SnapshotKey\": \"c1\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"Snapshotter\": \"overlayfs\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"Name\": \"io.containerd.runc.v2\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"Image\": \"docker.io/library/busybox:latest\""), std::string::npos)
      << info;
  EXPECT_NE(info.find("\"Spec\": {"), std::string::npos) << info;
  EXPECT_NE(info.find("\"ociVersion\""), std::string::npos) << info;
  EXPECT_EQ(Rows(Ok({"snapshots", "ls"})),
            (std::set<std::vector<std::string>>{{"KEY", "PARENT", "KIND"},
                                                {"c1", bb.diff_ids[0], "Active"},
                                                {bb.diff_ids[0], "Committed"}}));
  Ok({"containers", "rm", "c1"});
  EXPECT_EQ(Rows(Ok({"snapshots", "ls"})),
            (std::set<std::vector<std::string>>{{"KEY", "PARENT", "KIND"},
                                                {bb.diff_ids[0], "Committed"}}));
  // The image's config references its chain; once the image is gone (sync
  // GC), so are the snapshots, on disk too.
  Ok({"images", "rm", "--sync", "docker.io/library/busybox:latest"});
  std::string ls = Ok({"snapshots", "ls"});
  EXPECT_EQ(ls.find(bb.diff_ids[0]), std::string::npos) << ls;
  EXPECT_EQ(std::count(ls.begin(), ls.end(), '\n'), 1) << ls;
  EXPECT_TRUE(std::filesystem::is_empty(SnapRoot()));
}

}  // namespace
}  // namespace mcd::itest
