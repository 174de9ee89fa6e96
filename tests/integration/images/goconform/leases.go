package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/leases"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func labelKeys(m map[string]string) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "[" + strings.Join(keys, " ") + "]"
}

// writeBlob writes data under the lease in ctx.
func writeBlob(ctx context.Context, e *env, data string) (ocispec.Descriptor, error) {
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromString(data), Size: int64(len(data))}
	return desc, content.WriteBlob(ctx, e.client.ContentStore(), "w-"+desc.Digest.Encoded()[:12], strings.NewReader(data), desc)
}

func init() {
	register("leases", func(ctx context.Context, e *env, o *obs) error {
		lm := e.client.LeasesService()
		l1, err := lm.Create(ctx, leases.WithID("l1"), leases.WithLabels(map[string]string{"a": "1"}), leases.WithExpiration(time.Hour))
		o.e("create l1", err)
		o.f("  id=%s labels=%s created=%s", l1.ID, labelKeys(l1.Labels), ts(l1.CreatedAt))
		if exp, err := time.Parse(time.RFC3339, l1.Labels["containerd.io/gc.expire"]); err == nil {
			o.f("  expire in ~1h %v", time.Until(exp) > 50*time.Minute && time.Until(exp) < 70*time.Minute)
		} else {
			o.f("  expire label %q", l1.Labels["containerd.io/gc.expire"])
		}
		_, err = lm.Create(ctx, leases.WithID("l1"))
		o.e("create dup", err)
		_, err = lm.Create(ctx, leases.WithID("bad id!"))
		o.e("create bad id", err)
		l2, err := lm.Create(ctx, leases.WithID("l2"), leases.WithLabels(map[string]string{"b": "2"}))
		o.e("create l2", err)
		gen, err := lm.Create(ctx)
		o.e("create generated id", err)
		o.f("  generated id non-empty %v", gen.ID != "")
		lm.Delete(ctx, gen)
		for _, f := range []string{``, `id==l1`, `labels.a==1`, `labels.b`, `id~=^l`, `id==l1|id==l2`, `labels.==`} {
			list, err := lm.List(ctx, f)
			o.e("list "+f, err)
			var ids []string
			for _, l := range list {
				ids = append(ids, l.ID)
			}
			sort.Strings(ids)
			o.f("  [%s]", strings.Join(ids, " "))
		}

		// Content held by l1 alone, and shared by l1 and l2.
		c1 := leases.WithLease(ctx, "l1")
		only, err := writeBlob(c1, e, "goconform lease blob: only l1\n")
		o.e("write under l1", err)
		shared, err := writeBlob(c1, e, "goconform lease blob: l1 and l2\n")
		o.e("write shared", err)
		res := leases.Resource{ID: shared.Digest.String(), Type: "content"}
		o.e("add resource l2", lm.AddResource(ctx, l2, res))
		o.e("add resource again", lm.AddResource(ctx, l2, res))
		o.e("add resource bad type", lm.AddResource(ctx, l2, leases.Resource{ID: "x", Type: "bogus"}))
		o.e("add resource bad digest", lm.AddResource(ctx, l2, leases.Resource{ID: "x", Type: "content"}))
		o.e("add resource missing lease", lm.AddResource(ctx, leases.Lease{ID: "missing"}, res))
		o.e("add snapshot resource", lm.AddResource(ctx, l2, leases.Resource{ID: "snap-of-l2", Type: "snapshots/overlayfs"}))
		o.e("add ingest resource", lm.AddResource(ctx, l2, leases.Resource{ID: "ingest-ref", Type: "ingests"}))
		for _, l := range []leases.Lease{l1, l2, {ID: "missing"}} {
			rs, err := lm.ListResources(ctx, l)
			o.e("list resources "+l.ID, err)
			var s []string
			for _, r := range rs {
				s = append(s, r.Type+":"+r.ID)
			}
			sort.Strings(s)
			o.f("  [%s]", strings.Join(s, " "))
		}
		o.e("delete resource", lm.DeleteResource(ctx, l2, leases.Resource{ID: "ingest-ref", Type: "ingests"}))
		o.e("delete resource again", lm.DeleteResource(ctx, l2, leases.Resource{ID: "ingest-ref", Type: "ingests"}))
		o.e("delete resource missing lease", lm.DeleteResource(ctx, leases.Lease{ID: "missing"}, res))

		// A snapshot under l2 only.
		c2 := leases.WithLease(ctx, "l2")
		_, err = e.client.SnapshotService("overlayfs").Prepare(c2, "leased-snap", "")
		o.e("prepare under l2", err)

		o.e("delete l1 sync", lm.Delete(ctx, l1, leases.SynchronousDelete))
		_, err = e.client.ContentStore().Info(ctx, only.Digest)
		o.e("only-l1 blob after delete", err)
		_, err = e.client.ContentStore().Info(ctx, shared.Digest)
		o.e("shared blob after delete", err)
		_, err = e.client.SnapshotService("overlayfs").Stat(ctx, "leased-snap")
		o.e("l2 snapshot after l1 delete", err)
		o.e("delete l1 again", lm.Delete(ctx, l1))
		o.e("delete l2 sync", lm.Delete(ctx, l2, leases.SynchronousDelete))
		_, err = e.client.ContentStore().Info(ctx, shared.Digest)
		o.e("shared blob after l2 delete", err)
		_, err = e.client.SnapshotService("overlayfs").Stat(ctx, "leased-snap")
		o.e("snapshot after l2 delete", err)

		// client.WithLease: a lease exists while the work runs.
		lctx, done, err := e.client.WithLease(ctx)
		o.e("with lease", err)
		list, _ := lm.List(ctx)
		o.f("  leases during=%d", len(list))
		if id, ok := leases.FromContext(lctx); ok {
			for _, l := range list {
				if l.ID == id {
					o.f("  lease labels=%s", labelKeys(l.Labels))
				}
			}
		}
		o.e("done", done(lctx))
		list, _ = lm.List(ctx)
		o.f("  leases after=%d", len(list))
		return nil
	})
}

var _ = fmt.Sprint

func descOf(data string) ocispec.Descriptor {
	return ocispec.Descriptor{Digest: digest.FromString(data), Size: int64(len(data))}
}
