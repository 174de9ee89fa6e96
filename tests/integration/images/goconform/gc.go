package main

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/snapshots"
)

// What the collector keeps and takes, as seen after synchronous deletes.
func init() {
	register("gc", func(ctx context.Context, e *env, o *obs) error {
		lm := e.client.LeasesService()
		cs := e.client.ContentStore()
		sn := e.client.SnapshotService("overlayfs")
		exists := func(what string, data string) {
			_, err := cs.Info(ctx, descOf(data).Digest)
			o.f("  %s present=%v", what, err == nil)
		}
		snapExists := func(key string) {
			_, err := sn.Stat(ctx, key)
			o.f("  snapshot %s present=%v", key, err == nil)
		}
		sweep := func(what string) {
			l, err := lm.Create(ctx)
			if err != nil {
				o.e(what, err)
				return
			}
			o.e(what, lm.Delete(ctx, l, leases.SynchronousDelete))
		}
		l1, err := lm.Create(ctx, leases.WithID("gc1"))
		if err != nil {
			return err
		}
		c1 := leases.WithLease(ctx, l1.ID)
		child, parent, lone := "gc child blob\n", "gc parent blob\n", "gc lone blob\n"
		o.e("write child", content.WriteBlob(c1, cs, "child", strings.NewReader(child), descOf(child)))
		o.e("write parent", content.WriteBlob(c1, cs, "parent", strings.NewReader(parent), descOf(parent),
			content.WithLabels(map[string]string{
				"containerd.io/gc.ref.content.c":          descOf(child).Digest.String(),
				"containerd.io/gc.ref.snapshot.overlayfs": "gc-snap",
			})))
		o.e("write lone", content.WriteBlob(c1, cs, "lone", strings.NewReader(lone), descOf(lone)))
		_, err = sn.Prepare(c1, "gc-base-a", "")
		o.e("prepare base", err)
		o.e("commit base", sn.Commit(c1, "gc-base", "gc-base-a"))
		_, err = sn.Prepare(c1, "gc-snap", "gc-base")
		o.e("prepare referenced", err)
		_, err = sn.Prepare(c1, "gc-root", "", snapshots.WithLabels(map[string]string{"containerd.io/gc.root": "x"}))
		o.e("prepare gc.root", err)
		_, err = sn.Prepare(c1, "gc-free", "")
		o.e("prepare free", err)
		// An image holds the parent blob, the parent the rest.
		d := descOf(parent)
		d.MediaType = "application/octet-stream"
		_, err = e.client.ImageService().Create(ctx, images.Image{Name: "gc-img", Target: d})
		o.e("image on parent", err)
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		_, err = lm.Create(ctx, leases.WithID("expired"), leases.WithLabels(map[string]string{"containerd.io/gc.expire": past}))
		o.e("expired lease", err)

		o.e("delete gc1 sync", lm.Delete(ctx, l1, leases.SynchronousDelete))
		exists("parent", parent)
		exists("child", child)
		exists("lone", lone)
		snapExists("gc-snap")
		snapExists("gc-base")
		snapExists("gc-root")
		snapExists("gc-free")
		ls, _ := lm.List(ctx)
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.ID)
		}
		sort.Strings(ids)
		o.f("  leases after gc [%s]", strings.Join(ids, " "))

		o.e("delete image sync", e.client.ImageService().Delete(ctx, "gc-img", images.SynchronousDelete()))
		exists("parent", parent)
		exists("child", child)
		snapExists("gc-snap")
		snapExists("gc-base")
		snapExists("gc-root")
		o.e("remove gc-root", sn.Remove(ctx, "gc-root"))
		sweep("sweep")
		snapExists("gc-root")

		// A flat lease holds only what it names.
		l2, err := lm.Create(ctx, leases.WithID("flat"), leases.WithLabels(map[string]string{"containerd.io/gc.flat": "1"}))
		o.e("flat lease", err)
		c2 := leases.WithLease(ctx, l2.ID)
		o.e("write child again", content.WriteBlob(c2, cs, "child2", strings.NewReader(child), descOf(child)))
		o.e("write parent again", content.WriteBlob(c2, cs, "parent2", strings.NewReader(parent), descOf(parent),
			content.WithLabels(map[string]string{"containerd.io/gc.ref.content.c": descOf(child).Digest.String()})))
		o.e("drop child from lease", lm.DeleteResource(ctx, l2, leases.Resource{ID: descOf(child).Digest.String(), Type: "content"}))
		sweep("sweep flat")
		exists("parent", parent)
		exists("child (only referenced by label)", child)
		o.e("delete flat", lm.Delete(ctx, l2, leases.SynchronousDelete))
		exists("parent", parent)
		return nil
	})
}
