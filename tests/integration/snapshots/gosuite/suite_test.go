// Package gosuite runs containerd's own snapshotter test suite
// (snapshots/testsuite from Debian's containerd 1.6.20 sources) through the
// Go client's snapshot proxy against a running daemon, exactly as
// containerd's integration/client TestSnapshotterClient does.
//
//	gosuite.test -test.v -address <socket> -snapshotter overlayfs
package gosuite

import (
	"context"
	"flag"
	"testing"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/testsuite"
)

var (
	address     = flag.String("address", "", "the daemon's gRPC socket")
	snapshotter = flag.String("snapshotter", "overlayfs", "the snapshotter to test")
)

// newSnapshotter connects one client per subtest; the suite's context already
// carries the "testsuite" namespace.
func newSnapshotter(ctx context.Context, root string) (snapshots.Snapshotter, func() error, error) {
	client, err := containerd.New(*address)
	if err != nil {
		return nil, nil, err
	}
	return client.SnapshotService(*snapshotter), client.Close, nil
}

func TestSnapshotterClient(t *testing.T) {
	if *address == "" {
		t.Fatal("-address is required")
	}
	testsuite.SnapshotterSuite(t, *snapshotter, newSnapshotter)
}
