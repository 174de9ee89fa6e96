package main

import (
	"context"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/snapshots"
)

// Label rules every store shares: an empty value removes the label, an
// empty key is refused, the size limit.
func init() {
	register("labels", func(ctx context.Context, e *env, o *obs) error {
		ctx, done, err := e.client.WithLease(ctx)
		if err != nil {
			return err
		}
		defer done(ctx)
		bad := map[string]string{"": "v"}
		emptyBoth := map[string]string{"": "", "k": "v"}
		big := map[string]string{"k": strings.Repeat("x", 4097)}
		withSpec := containerd.WithNewSpec(oci.WithProcessArgs("true"))

		for _, tc := range []struct {
			name string
			l    map[string]string
		}{{"bad", bad}, {"emptyboth", emptyBoth}, {"big", big}} {
			name, l := tc.name, tc.l
			c, err := e.client.NewContainer(ctx, "c-"+name, containerd.WithContainerLabels(l), withSpec)
			o.e("container create "+name, err)
			if err == nil {
				info, _ := c.Info(ctx)
				o.f("  labels=%s", labels(info.Labels))
			}
		}
		c, err := e.client.NewContainer(ctx, "c-ok", withSpec)
		if err != nil {
			return err
		}
		_, err = c.SetLabels(ctx, bad)
		o.e("container set bad", err)
		_, err = e.client.ContainerService().Update(ctx, containers.Container{ID: "c-ok", Labels: bad}, "labels.")
		o.e("container update labels.<empty>", err)

		o.e("ns create bad", e.client.NamespaceService().Create(ctx, "conf-lab-ns", bad))
		o.e("ns create big", e.client.NamespaceService().Create(ctx, "conf-lab-ns2", big))
		o.e("ns set empty key", e.client.NamespaceService().SetLabel(ctx, "conf-lab-ns", "", "x"))
		e.client.NamespaceService().Delete(ctx, "conf-lab-ns")
		e.client.NamespaceService().Delete(ctx, "conf-lab-ns2")

		if err := importTar(ctx, e); err != nil {
			return err
		}
		img, err := e.client.ImageService().Get(ctx, testRef)
		if err != nil {
			return err
		}
		_, err = e.client.ImageService().Create(ctx, images.Image{Name: "lab:bad", Target: img.Target, Labels: bad})
		o.e("image create bad", err)
		_, err = e.client.ImageService().Create(ctx, images.Image{Name: "lab:big", Target: img.Target, Labels: big})
		o.e("image create big", err)
		got, err := e.client.ImageService().Create(ctx, images.Image{Name: "lab:both", Target: img.Target, Labels: emptyBoth})
		o.e("image create emptyboth", err)
		o.f("  labels=%s", labels(got.Labels))
		_, err = e.client.ImageService().Update(ctx, images.Image{Name: testRef, Target: img.Target, Labels: bad}, "labels")
		o.e("image update bad", err)

		cs := e.client.ContentStore()
		_, err = cs.Update(ctx, content.Info{Digest: img.Target.Digest, Labels: bad}, "labels")
		o.e("content update bad", err)
		_, err = cs.Update(ctx, content.Info{Digest: img.Target.Digest, Labels: big}, "labels")
		o.e("content update big", err)
		ci, err := cs.Update(ctx, content.Info{Digest: img.Target.Digest, Labels: emptyBoth}, "labels")
		o.e("content update emptyboth", err)
		o.f("  labels=%s", labels(ci.Labels))

		_, err = e.client.LeasesService().Create(ctx, leases.WithID("lab-bad"), leases.WithLabels(bad))
		o.e("lease create bad", err)
		_, err = e.client.LeasesService().Create(ctx, leases.WithID("lab-big"), leases.WithLabels(big))
		o.e("lease create big", err)

		sn := e.client.SnapshotService("overlayfs")
		_, err = sn.Prepare(ctx, "lab-bad", "", snapshots.WithLabels(bad))
		o.e("snapshot prepare bad", err)
		_, err = sn.Prepare(ctx, "lab-big", "", snapshots.WithLabels(big))
		o.e("snapshot prepare big", err)
		_, err = sn.Prepare(ctx, "lab-ok", "")
		o.e("snapshot prepare ok", err)
		_, err = sn.Update(ctx, snapshots.Info{Name: "lab-ok", Labels: bad}, "labels")
		o.e("snapshot update bad", err)
		si, err := sn.Update(ctx, snapshots.Info{Name: "lab-ok", Labels: emptyBoth}, "labels")
		o.e("snapshot update emptyboth", err)
		o.f("  labels=%s", labels(si.Labels))
		si, err = sn.Update(ctx, snapshots.Info{Name: "lab-ok", Labels: map[string]string{"k": "", "n": "1"}})
		o.e("snapshot update emptyvalue", err)
		o.f("  labels=%s", labels(si.Labels))
		si, err = sn.Update(ctx, snapshots.Info{Name: "lab-ok", Labels: big}, "labels")
		o.e("snapshot update big", err)
		o.e("snapshot commit big", sn.Commit(ctx, "lab-c", "lab-ok", snapshots.WithLabels(big)))
		o.e("snapshot commit empty name", sn.Commit(ctx, "", "lab-ok"))
		o.e("snapshot remove empty", sn.Remove(ctx, ""))
		_, err = sn.Stat(ctx, "")
		o.e("snapshot stat empty", err)
		return nil
	})
}
