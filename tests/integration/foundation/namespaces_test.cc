// ctr namespaces against the daemon: outputs and errors as containerd 1.6.20
// gives them (compared side by side with the real one).
#include "tests/integration/foundation/common.h"

namespace mcd::itest {
namespace {

using NamespacesTest = DaemonTest;

TEST_F(NamespacesTest, CreateListLabelRemove) {
  auto r = C({"ns", "ls"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Rows(r.out), (std::vector<std::vector<std::string>>{{"NAME", "LABELS"}}));

  ASSERT_EQ(C({"ns", "create", "foo", "a=b", "c=d"}).exit_code, 0);
  ASSERT_EQ(C({"ns", "create", "bar"}).exit_code, 0);
  r = C({"ns", "ls"});
  EXPECT_EQ(Rows(r.out), (std::vector<std::vector<std::string>>{
                             {"NAME", "LABELS"}, {"bar"}, {"foo", "a=b,c=d"}}))
      << r.out;
  r = C({"ns", "ls", "-q"});
  EXPECT_EQ(r.out, "bar\nfoo\n");

  // Labels: set, change, remove with an empty value.
  ASSERT_EQ(C({"ns", "label", "foo", "a=x", "e=f"}).exit_code, 0);
  ASSERT_EQ(C({"ns", "label", "foo", "c="}).exit_code, 0);
  r = C({"ns", "ls"});
  EXPECT_EQ(Rows(r.out)[2], (std::vector<std::string>{"foo", "a=x,e=f"})) << r.out;

  r = C({"ns", "rm", "foo", "bar"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "foo\nbar\n");
  EXPECT_EQ(C({"ns", "ls", "-q"}).out, "");
}

TEST_F(NamespacesTest, Errors) {
  ASSERT_EQ(C({"ns", "create", "foo"}).exit_code, 0);
  auto r = C({"ns", "create", "foo"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: namespace \"foo\": already exists\n");

  r = C({"ns", "create", "bad/name"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ctr: identifier \"bad/name\" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: "
            "invalid argument\n");
  r = C({"ns", "create", std::string(77, 'a')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: identifier \"" + std::string(77, 'a') +
                       "\" greater than maximum length (76 characters): invalid argument\n");
  r = C({"ns", "create", "big", "k=" + std::string(5000, 'v')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ctr: namespace.Labels: label key and value greater than maximum size (4096 bytes), "
            "key: k: invalid argument\n");

  // containerd treats a missing namespace as removed: the name is printed.
  r = C({"ns", "rm", "missing"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "missing\n");
  r = C({"ns", "rm", "x/y"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "x/y\n");

  // Labelling a missing namespace creates it, as containerd.
  r = C({"ns", "label", "missing", "a=b"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Rows(C({"ns", "ls"}).out)[2], (std::vector<std::string>{"missing", "a=b"}));
}

// Go's clients send any bytes in a string field and containerd's (gogo)
// decoding takes them: an id that is not UTF-8 is an invalid identifier, a
// name that is not found is not found, a label value is kept as it is. Not
// an unparsable request ("unknown"). Compared with containerd 1.6.20.
TEST_F(NamespacesTest, NamesThatAreNotUtf8AreServedAsContainerdServesThem) {
  auto r = C({"ns", "create", "n\xff"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ctr: identifier \"n\\xff\" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: "
            "invalid argument\n");
  r = C({"c", "info", "x\xfe"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: container \"x\\xfe\" in namespace \"default\": not found\n");
  // An error that quotes the bytes raw: grpc-go (containerd's) sends them
  // as U+FFFD.
  r = C({"snapshots", "info", "k\xff"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: snapshot k\xef\xbf\xbd does not exist: not found\n");
  r = C({"ns", "create", "latin", "k=caf\xe9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Rows(C({"ns", "ls"}).out)[1], (std::vector<std::string>{"latin", "k=caf\xe9"}));
}

// A namespace header that is no identifier fails only the calls that need
// a namespace, as containerd's NamespaceRequired, with its wording; the
// snapshots walk passes it on as Unknown. Compared with containerd 1.6.20.
TEST_F(NamespacesTest, ABadNamespaceHeaderFailsOnlyCallsThatNeedOne) {
  const std::string bad = "q w";
  const std::string why =
      "namespace validation: identifier \"q w\" must match "
      "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"plugins", "ls", "-q"}, {"ns", "ls", "-q"}, {"version"}}) {
    auto r = Ctr(*d_, args, bad);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
  }
  auto r = Ctr(*d_, {"c", "ls"}, bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: " + why + "\n");
  r = Ctr(*d_, {"snapshots", "ls"}, bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: " + why + ": unknown\n");
  r = Ctr(*d_, {"leases", "ls"}, bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ctr: failed to list leases: " + why + "\n");
}

TEST_F(NamespacesTest, RemoveNonEmptyIsFailedPrecondition) {
  ASSERT_EQ(C({"ns", "create", "busy"}).exit_code, 0);
  std::string rootfs = dir_.path() + "/rootfs";
  ASSERT_EQ(Sh({"mkdir", "-p", rootfs}).exit_code, 0);
  // A container record is enough to keep a namespace.
  auto r = Ctr(*d_, {"c", "create", "--rootfs", rootfs, "c1"}, "busy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = C({"ns", "rm", "busy"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("ctr: unable to delete busy: namespace \"busy\" must be empty, but it "
                       "still has containers: failed precondition\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(C({"ns", "ls", "-q"}).out, "busy\n");
  ASSERT_EQ(Ctr(*d_, {"c", "rm", "c1"}, "busy").exit_code, 0);
  r = C({"ns", "rm", "busy"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "busy\n");
}

}  // namespace
}  // namespace mcd::itest
