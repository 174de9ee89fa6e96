package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/containerd"
	eventsapi "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/snapshots"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func init() {
	// Calls without a namespace, through each service.
	register("nonamespace", func(ctx context.Context, e *env, o *obs) error {
		bg := context.Background()
		_, err := e.client.ContainerService().List(bg)
		o.e("containers list", err)
		_, err = e.client.ContainerService().Get(bg, "x")
		o.e("containers get", err)
		_, err = e.client.ImageService().List(bg)
		o.e("images list", err)
		_, err = e.client.ImageService().Get(bg, "x")
		o.e("images get", err)
		_, err = e.client.ContentStore().Info(bg, digest.FromString("x"))
		o.e("content info", err)
		err = e.client.ContentStore().Walk(bg, func(content.Info) error { return nil })
		o.e("content walk", err)
		_, err = e.client.ContentStore().ListStatuses(bg)
		o.e("content statuses", err)
		_, err = e.client.ContentStore().Writer(bg, content.WithRef("x"))
		o.e("content writer", err)
		_, err = e.client.LeasesService().List(bg)
		o.e("leases list", err)
		_, err = e.client.LeasesService().Create(bg)
		o.e("leases create", err)
		_, err = e.client.SnapshotService("overlayfs").Stat(bg, "x")
		o.e("snapshots stat", err)
		_, err = e.client.SnapshotService("overlayfs").Prepare(bg, "x", "")
		o.e("snapshots prepare", err)
		_, err = e.client.NamespaceService().List(bg)
		o.e("namespaces list", err)
		o.e("events publish", e.client.EventService().Publish(bg, "/x/y", &eventsapi.ContainerDelete{ID: "x"}))
		o.e("events publish bad topic", e.client.EventService().Publish(ctx, "bad", &eventsapi.ContainerDelete{ID: "x"}))
		o.e("events publish empty topic", e.client.EventService().Publish(ctx, "", &eventsapi.ContainerDelete{ID: "x"}))
		return nil
	})

	register("more", func(ctx context.Context, e *env, o *obs) error {
		lm := e.client.LeasesService()
		lease, err := lm.Create(ctx, leases.WithID("more"), leases.WithLabels(map[string]string{"k": "v", "e": ""}))
		o.e("lease with empty value", err)
		o.f("  labels=%s", labels(lease.Labels))
		list, _ := lm.List(ctx, `labels."k"==v`)
		o.f("  quoted filter n=%d", len(list))
		list, _ = lm.List(ctx, `labels.e`)
		o.f("  empty-valued label filter n=%d", len(list))
		ctx = leases.WithLease(ctx, lease.ID)
		img, err := importImage(ctx, e)
		if err != nil {
			return err
		}
		// Another snapshotter, and the default one from the namespace label.
		ok, err := img.IsUnpacked(ctx, "native")
		o.e("is unpacked native", err)
		o.f("  %v", ok)
		o.e("unpack native", img.Unpack(ctx, "native"))
		ok, _ = img.IsUnpacked(ctx, "native")
		o.f("  native unpacked %v", ok)
		var names []string
		e.client.SnapshotService("native").Walk(ctx, func(_ context.Context, i snapshots.Info) error {
			names = append(names, i.Name+" "+i.Kind.String())
			return nil
		})
		o.f("  native snapshots %v", names)
		// Usage of the unpacked layer, and what a committed snapshot answers.
		if d, err := img.RootFS(ctx); err == nil && len(d) == 1 {
			for _, name := range []string{"native", "overlayfs"} {
				sn := e.client.SnapshotService(name)
				if name == "overlayfs" {
					o.e("unpack overlayfs", img.Unpack(ctx, name))
				}
				u, err := sn.Usage(ctx, d[0].String())
				o.e(name+" usage", err)
				o.f("  inodes=%d size=%d", u.Inodes, u.Size)
				m, err := sn.Mounts(ctx, d[0].String())
				o.e(name+" mounts of committed", err)
				o.f("  %s", describeMounts(m))
				m, err = sn.View(ctx, name+"-v1", d[0].String())
				o.e(name+" view", err)
				o.f("  %s", describeMounts(m))
				_, err = sn.View(ctx, name+"-v2", name+"-v1")
				o.e(name+" view of view", err)
				m, err = sn.Prepare(ctx, name+"-p1", d[0].String())
				o.e(name+" prepare", err)
				o.f("  %s", describeMounts(m))
				u, err = sn.Usage(ctx, name+"-p1")
				o.e(name+" usage active", err)
				o.f("  inodes=%d size=%d", u.Inodes, u.Size)
			}
		}
		cfg, _ := img.Config(ctx)
		info, err := e.client.ContentStore().Info(ctx, cfg.Digest)
		o.e("config info", err)
		o.f("  labels=%s", labels(info.Labels))
		o.e("unpack bogus snapshotter", img.Unpack(ctx, "bogus"))

		c, err := e.client.NewContainer(ctx, "view", containerd.WithSnapshotter("native"),
			containerd.WithNewSnapshotView("view-snap", img), containerd.WithNewSpec(oci.WithProcessArgs("true")))
		o.e("container with view", err)
		if err == nil {
			si, err := e.client.SnapshotService("native").Stat(ctx, "view-snap")
			o.e("stat view", err)
			o.f("  %s", describeSnapshot(si))
			ci, _ := c.Image(ctx)
			if ci != nil {
				o.f("  container image %s", ci.Name())
			}
			spec, err := c.Spec(ctx)
			o.e("container spec", err)
			if spec != nil {
				o.f("  args %v", spec.Process.Args)
			}
			o.e("delete with cleanup", c.Delete(ctx, containerd.WithSnapshotCleanup))
			_, err = e.client.SnapshotService("native").Stat(ctx, "view-snap")
			o.e("view after delete", err)
		}
		_, err = e.client.NewContainer(ctx, "nosnapshotter", containerd.WithSnapshotter("bogus"),
			containerd.WithNewSnapshot("x", img), containerd.WithNewSpec(oci.WithProcessArgs("true")))
		o.e("container bogus snapshotter", err)

		// Image with annotations on its target, and the annotations paths.
		is := e.client.ImageService()
		t := img.Target()
		t.Annotations = map[string]string{"a1": "x", "a2": ""}
		got, err := is.Create(ctx, images.Image{Name: "annotated", Target: t})
		o.e("create annotated", err)
		o.f("  annotations=%s", labels(got.Target.Annotations))
		t.Annotations = map[string]string{"a1": "y", "a3": "z"}
		got, err = is.Update(ctx, images.Image{Name: "annotated", Target: t}, "annotations.a3")
		o.e("update annotations.a3", err)
		o.f("  annotations=%s", labels(got.Target.Annotations))
		got, err = is.Update(ctx, images.Image{Name: "annotated", Target: t}, "annotations")
		o.e("update annotations", err)
		o.f("  annotations=%s", labels(got.Target.Annotations))
		for _, f := range []string{`annotations.a1==y`, `target.digest==` + string(t.Digest), `target.size>0`, `labels.x!=y`} {
			l, err := is.List(ctx, f)
			o.e("list "+f, err)
			var n []string
			for _, i := range l {
				n = append(n, i.Name)
			}
			sort.Strings(n)
			o.f("  [%s]", strings.Join(n, " "))
		}
		o.e("delete missing image", is.Delete(ctx, "missing"))

		// Content: a writer past its total, truncate, gc labels on commit.
		cs := e.client.ContentStore()
		w, err := cs.Writer(ctx, content.WithRef("over"), content.WithDescriptor(ocispec.Descriptor{Size: 3}))
		o.e("writer over", err)
		if err == nil {
			_, err = w.Write([]byte("abcdef"))
			o.e("write past total", err)
			st, _ := w.Status()
			o.f("  %s", describeStatus(st))
			o.e("truncate", w.Truncate(0))
			st, _ = w.Status()
			o.f("  after truncate %s", describeStatus(st))
			w.Write([]byte("abc"))
			o.e("commit 0 size", w.Commit(ctx, 0, ""))
			w.Close()
			i, err := cs.Info(ctx, digest.FromString("abc"))
			o.e("info abc", err)
			o.f("  %s", describeInfo(i))
		}
		w, err = cs.Writer(ctx, content.WithRef("gcref"))
		if err == nil {
			w.Write([]byte("has gc refs"))
			o.e("commit with gc label", w.Commit(ctx, 0, "", content.WithLabels(map[string]string{
				"containerd.io/gc.ref.content.x":          string(digest.FromString("abc")),
				"containerd.io/gc.ref.snapshot.overlayfs": "whatever",
			})))
			w.Close()
			i, err := cs.Info(ctx, digest.FromString("has gc refs"))
			o.e("info gc refs", err)
			o.f("  %s", describeInfo(i))
		}
		ra, err := cs.ReaderAt(ctx, ocispec.Descriptor{Digest: digest.FromString("abc"), Size: 99})
		o.e("reader at wrong size", err)
		if ra != nil {
			o.f("  size=%d", ra.Size())
			ra.Close()
		}
		_, err = cs.Info(ctx, "sha256:short")
		o.e("info bad digest", err)
		o.e("delete bad digest", cs.Delete(ctx, "nope"))
		o.e("abort missing", cs.Abort(ctx, "missing"))
		_, err = cs.Status(ctx, "")
		o.e("status empty ref", err)

		rs, err := lm.ListResources(ctx, lease)
		o.e("list resources", err)
		var r []string
		for _, x := range rs {
			id := x.ID
			if strings.HasPrefix(id, "sha256:") {
				id = "<digest>"
			}
			r = append(r, x.Type+":"+id)
		}
		sort.Strings(r)
		o.f("  %s", fmt.Sprint(r))
		return nil
	})
}
