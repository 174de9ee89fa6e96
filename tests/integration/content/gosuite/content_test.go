// Package gosuite runs containerd's own content store test suite
// (github.com/containerd/containerd/content/testsuite, Debian's 1.6.20
// sources) through the Go client's content store proxy against a running
// daemon, set up the way containerd's integration test TestContentClient
// does: every test context gets its own namespace ("<suite>-n<k>") and a
// lease, and the cleanup aborts the ingests and deletes the blobs of every
// namespace it handed out.
//
//	go test -c -o gosuite . && ./gosuite -test.v -address /path/to.sock
//
// TestContentClientCrossNS adds the cross-namespace suite matching the
// daemon's content sharing policy, read from introspection (the metadata
// plugin's "policy" export): ContentCrossNSSharedSuite for "shared" (the
// default), ContentCrossNSIsolatedSuite for "isolated".
package gosuite

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/testsuite"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
)

var address = flag.String("address", "", "the daemon's gRPC socket")

func TestMain(m *testing.M) {
	flag.Parse()
	if *address == "" {
		fmt.Fprintln(os.Stderr, "gosuite: -address <socket> is required")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// storeFor is the suite's StoreInitFn: a fresh client, its content store,
// a context wrapper handing out one namespace and lease per call, and a
// cleanup emptying those namespaces again.
func storeFor(ctx context.Context, _ string) (context.Context, content.Store, func() error, error) {
	client, err := containerd.New(*address)
	if err != nil {
		return nil, nil, nil, err
	}
	cs := client.ContentStore()
	name := testsuite.Name(ctx)
	var handed uint64
	nsOf := func(k uint64) string { return fmt.Sprintf("%s-n%d", name, k) }

	wrap := func(ctx context.Context) (context.Context, func(context.Context) error, error) {
		k := atomic.AddUint64(&handed, 1)
		return client.WithLease(namespaces.WithNamespace(ctx, nsOf(k)))
	}
	ctx = testsuite.SetContextWrapper(ctx, wrap)

	cleanup := func() error {
		defer client.Close()
		for k := uint64(1); k <= atomic.LoadUint64(&handed); k++ {
			nctx := namespaces.WithNamespace(context.Background(), nsOf(k))
			statuses, err := cs.ListStatuses(nctx)
			if err != nil {
				return err
			}
			for _, st := range statuses {
				if err := cs.Abort(nctx, st.Ref); err != nil && !errdefs.IsNotFound(err) {
					return fmt.Errorf("failed to abort %s: %w", st.Ref, err)
				}
			}
			err = cs.Walk(nctx, func(info content.Info) error {
				if err := cs.Delete(nctx, info.Digest); err != nil && !errdefs.IsNotFound(err) {
					return err
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	return ctx, cs, cleanup, nil
}

// TestContentClient is containerd's integration/client TestContentClient.
func TestContentClient(t *testing.T) {
	testsuite.ContentSuite(t, "ContentClient", storeFor)
}

// sharingPolicy asks the daemon's introspection service for the metadata
// plugin's content sharing policy.
func sharingPolicy(t *testing.T) string {
	client, err := containerd.New(*address)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), "default")
	resp, err := client.IntrospectionService().Plugins(ctx, []string{"type==io.containerd.metadata.v1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Plugins {
		if policy, ok := p.Exports["policy"]; ok {
			return policy
		}
	}
	t.Fatal("no metadata plugin exports a content sharing policy")
	return ""
}

// TestContentClientCrossNS runs the cross-namespace suite the daemon's
// policy calls for, through the same client setup.
func TestContentClientCrossNS(t *testing.T) {
	switch policy := sharingPolicy(t); policy {
	case "shared":
		testsuite.ContentCrossNSSharedSuite(t, "ContentClient", storeFor)
	case "isolated":
		testsuite.ContentCrossNSIsolatedSuite(t, "ContentClient", storeFor)
	default:
		t.Fatalf("unknown content sharing policy %q", policy)
	}
}
