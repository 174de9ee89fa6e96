package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/runtime/v2/runc/options"
	"github.com/containerd/containerd/snapshots"
	"github.com/gogo/protobuf/types"
)

func describeContainer(c containers.Container) string {
	var ext []string
	for k, v := range c.Extensions {
		ext = append(ext, k+"="+v.TypeUrl)
	}
	sort.Strings(ext)
	opt, spec := "", ""
	if c.Runtime.Options != nil {
		opt = c.Runtime.Options.TypeUrl
	}
	if c.Spec != nil {
		spec = c.Spec.TypeUrl
	}
	return fmt.Sprintf("id=%s labels=%s image=%q runtime=%s opts=%q spec=%q snapshotter=%q key=%q created=%s updated=%s ext=%v",
		c.ID, labels(c.Labels), c.Image, c.Runtime.Name, opt, spec, c.Snapshotter, c.SnapshotKey, ts(c.CreatedAt), ts(c.UpdatedAt), ext)
}

func importImage(ctx context.Context, e *env) (containerd.Image, error) {
	if err := importTar(ctx, e); err != nil {
		return nil, err
	}
	return e.client.GetImage(ctx, testRef)
}

func init() {
	register("containers", func(ctx context.Context, e *env, o *obs) error {
		// Under a lease: nothing made here is collected while it runs.
		ctx, done, err := e.client.WithLease(ctx)
		if err != nil {
			return err
		}
		defer done(ctx)
		img, err := importImage(ctx, e)
		if err != nil {
			return err
		}
		if err := img.Unpack(ctx, "overlayfs"); err != nil {
			return err
		}
		c, err := e.client.NewContainer(ctx, "c1",
			containerd.WithImage(img),
			containerd.WithSnapshotter("overlayfs"),
			containerd.WithNewSnapshot("c1-snap", img, snapshots.WithLabels(map[string]string{"s": "1"})),
			containerd.WithContainerLabels(map[string]string{"a": "1", "b": "2"}),
			containerd.WithContainerExtension("ext1", &types.StringValue{Value: "x"}),
			containerd.WithRuntime("io.containerd.runc.v2", &options.Options{BinaryName: "runc"}),
			containerd.WithNewSpec(oci.WithProcessArgs("true")))
		o.e("create c1", err)
		if err != nil {
			return nil
		}
		store := e.client.ContainerService()
		info, err := c.Info(ctx)
		o.e("info", err)
		o.f("c1 %s", describeContainer(info))
		o.f("created==updated %s", order(info.CreatedAt, info.UpdatedAt))
		ext, err := c.Extensions(ctx)
		o.e("extensions", err)
		if v, ok := ext["ext1"]; ok {
			o.f("ext1 %s %q", v.TypeUrl, v.Value)
		}
		sn, err := e.client.SnapshotService("overlayfs").Stat(ctx, "c1-snap")
		o.e("stat snapshot", err)
		o.f("snapshot kind=%v labels=%s", sn.Kind, labels(sn.Labels))

		_, err = e.client.NewContainer(ctx, "c1", containerd.WithNewSpec(oci.WithProcessArgs("true")))
		o.e("create again", err)
		_, err = e.client.NewContainer(ctx, "bad/id", containerd.WithNewSpec(oci.WithProcessArgs("true")))
		o.e("create bad id", err)
		_, err = store.Create(ctx, containers.Container{ID: "nospec", Runtime: containers.RuntimeInfo{Name: "io.containerd.runc.v2"}})
		o.e("create without spec", err)
		_, err = store.Create(ctx, containers.Container{ID: "noruntime", Spec: info.Spec})
		o.e("create without runtime", err)
		_, err = store.Create(ctx, containers.Container{ID: "keynosnapshotter", Spec: info.Spec, Runtime: info.Runtime, SnapshotKey: "k"})
		o.e("create key without snapshotter", err)
		_, err = e.client.LoadContainer(ctx, "missing")
		o.e("load missing", err)
		_, err = store.Get(ctx, "missing")
		o.e("get missing", err)

		l, err := c.SetLabels(ctx, map[string]string{"c": "3", "a": ""})
		o.e("set labels", err)
		o.f("after set labels=%s", labels(l))
		l, err = c.Labels(ctx)
		o.e("labels", err)
		o.f("labels=%s", labels(l))

		upd := func(what string, mut func(*containers.Container), paths ...string) {
			cur, err := store.Get(ctx, "c1")
			if err != nil {
				o.e(what+" get", err)
				return
			}
			mut(&cur)
			got, err := store.Update(ctx, cur, paths...)
			o.e(what, err)
			if err == nil {
				o.f("  %s updated %s", describeContainer(got), order(cur.UpdatedAt, got.UpdatedAt))
			}
		}
		upd("update labels.d", func(c *containers.Container) { c.Labels = map[string]string{"d": "4", "b": "x"} }, "labels.d")
		upd("update labels", func(c *containers.Container) { c.Labels = map[string]string{"z": "26"} }, "labels")
		upd("update image", func(c *containers.Container) { c.Image = "other" }, "image")
		upd("update extensions.ext2", func(c *containers.Container) {
			c.Extensions = map[string]types.Any{"ext2": {TypeUrl: "t2", Value: []byte("v")}}
		}, "extensions.ext2")
		upd("update extensions", func(c *containers.Container) {
			c.Extensions = map[string]types.Any{"ext3": {TypeUrl: "t3", Value: []byte("v")}}
		}, "extensions")
		upd("update spec", func(c *containers.Container) { c.Spec = &types.Any{TypeUrl: "spec2", Value: []byte("{}")} }, "spec")
		upd("update snapshotkey", func(c *containers.Container) { c.SnapshotKey = "other" }, "snapshotkey")
		upd("update snapshotter", func(c *containers.Container) { c.Snapshotter = "native" }, "snapshotter")
		upd("update runtime", func(c *containers.Container) { c.Runtime.Name = "other" }, "runtime")
		upd("update id", func(c *containers.Container) {}, "id")
		upd("update unknown path", func(c *containers.Container) {}, "bogus")
		upd("update all", func(c *containers.Container) { c.Labels = map[string]string{"all": "1"}; c.Image = "img3" })
		upd("update all changed runtime", func(c *containers.Container) { c.Runtime.Name = "rt" })
		upd("update all changed key", func(c *containers.Container) { c.SnapshotKey = "k2" })
		upd("update all empty spec", func(c *containers.Container) { c.Spec = nil })
		upd("update label bad", func(c *containers.Container) { c.Labels = map[string]string{"": "v"} }, "labels")
		_, err = store.Update(ctx, containers.Container{ID: "missing"}, "labels")
		o.e("update missing", err)
		_, err = store.Update(ctx, containers.Container{ID: ""}, "labels")
		o.e("update empty id", err)

		for i, lab := range []map[string]string{{"app": "web", "tier": "1"}, {"app": "db"}, {}} {
			_, err := e.client.NewContainer(ctx, fmt.Sprintf("list%d", i), containerd.WithContainerLabels(lab),
				containerd.WithNewSpec(oci.WithProcessArgs("true")))
			o.e(fmt.Sprintf("create list%d", i), err)
		}
		for _, f := range []string{``, `labels.app==web`, `labels."app"`, `id~=^list[01]$`, `id==c1`, `labels.app==web|id==list2`,
			`image==img3`, `runtime.name==io.containerd.runc.v2`, `labels.app!=web`, `labels.==x`, `id~=(`} {
			list, err := store.List(ctx, f)
			o.e("list "+f, err)
			var ids []string
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			sort.Strings(ids)
			o.f("  [%s]", strings.Join(ids, " "))
		}
		cs, err := e.client.Containers(ctx, `labels.app==db`)
		o.e("client containers", err)
		o.f("  n=%d", len(cs))

		c, _ = e.client.LoadContainer(ctx, "c1")
		// The failed updates above left the snapshot key unchanged.
		info, _ = c.Info(ctx)
		o.f("final key=%q snapshotter=%q", info.SnapshotKey, info.Snapshotter)
		o.e("delete with snapshot cleanup", c.Delete(ctx, containerd.WithSnapshotCleanup))
		_, err = e.client.SnapshotService("overlayfs").Stat(ctx, "c1-snap")
		o.e("snapshot after delete", err)
		o.e("delete again", store.Delete(ctx, "c1"))
		for i := 0; i < 3; i++ {
			o.e("delete list", store.Delete(ctx, fmt.Sprintf("list%d", i)))
		}
		return nil
	})
}
