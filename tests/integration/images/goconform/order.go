package main

import (
	"context"
	"sort"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/snapshots"
)

// The order lists come back in, unsorted: clients print them as they come.
func init() {
	register("order", func(ctx context.Context, e *env, o *obs) error {
		ctx, done, err := e.client.WithLease(ctx)
		if err != nil {
			return err
		}
		defer done(ctx)
		ids := []string{"b", "B", "a", "10", "9", "a-b", "a.b", "a_b", "A1"}
		spec := containerd.WithNewSpec(oci.WithProcessArgs("true"))
		if err := importTar(ctx, e); err != nil {
			return err
		}
		img, err := e.client.ImageService().Get(ctx, testRef)
		if err != nil {
			return err
		}
		lm := e.client.LeasesService()
		sn := e.client.SnapshotService("overlayfs")
		for _, id := range ids {
			if _, err := e.client.NewContainer(ctx, id, spec); err != nil {
				o.e("container "+id, err)
			}
			if _, err := e.client.ImageService().Create(ctx, images.Image{Name: "img/" + id, Target: img.Target}); err != nil {
				o.e("image "+id, err)
			}
			if _, err := lm.Create(ctx, leases.WithID("l"+id)); err != nil {
				o.e("lease "+id, err)
			}
			if _, err := sn.Prepare(ctx, "s"+id, ""); err != nil {
				o.e("snapshot "+id, err)
			}
			w, err := e.client.ContentStore().Writer(ctx, content.WithRef("r"+id))
			if err == nil {
				w.Write([]byte(id))
				w.Close()
			}
		}
		cs, _ := e.client.ContainerService().List(ctx)
		var got []string
		for _, c := range cs {
			got = append(got, c.ID)
		}
		o.f("containers %s", strings.Join(got, " "))
		is, _ := e.client.ImageService().List(ctx)
		got = nil
		for _, i := range is {
			got = append(got, i.Name)
		}
		o.f("images %s", strings.Join(got, " "))
		ls, _ := lm.List(ctx)
		got = nil
		for _, l := range ls {
			if strings.HasPrefix(l.ID, "l") {
				got = append(got, l.ID)
			}
		}
		o.f("leases %s", strings.Join(got, " "))
		got = nil
		sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
			got = append(got, i.Name)
			return nil
		})
		o.f("snapshots %s", strings.Join(got, " "))
		st, _ := e.client.ContentStore().ListStatuses(ctx)
		got = nil
		for _, s := range st {
			got = append(got, s.Ref)
		}
		// containerd's come from a Go map: any order.
		sort.Strings(got)
		o.f("statuses %s", strings.Join(got, " "))
		got = nil
		e.client.ContentStore().Walk(ctx, func(i content.Info) error {
			got = append(got, i.Digest.String())
			return nil
		})
		o.f("blobs %s", strings.Join(got, " "))
		nss, _ := e.client.NamespaceService().List(ctx)
		got = nil
		for _, n := range nss {
			if strings.HasPrefix(n, "conform-") {
				got = append(got, n)
			}
		}
		o.f("namespaces %s", strings.Join(got, " "))
		return nil
	})
}
