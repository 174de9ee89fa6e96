package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/containerd/diff"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/platforms"
	"github.com/containerd/containerd/snapshots"
)

type snapshotsInfo = snapshots.Info

func platformsDefault() platforms.MatchComparer { return platforms.Default() }

func describeMounts(ms []mount.Mount) string {
	var s []string
	for _, m := range ms {
		s = append(s, fmt.Sprintf("%s %s %s", m.Type, normPath(m.Source), normPath(strings.Join(m.Options, ","))))
	}
	return "[" + strings.Join(s, "; ") + "]"
}

func describeSnapshot(i snapshots.Info) string {
	return fmt.Sprintf("name=%s parent=%q kind=%v labels=%s created=%s updated=%s", i.Name, i.Parent, i.Kind, labels(i.Labels), ts(i.Created), ts(i.Updated))
}

func init() {
	register("snapshots", func(ctx context.Context, e *env, o *obs) error {
		// Under a lease: nothing made here is collected while it runs.
		ctx, done, err := e.client.WithLease(ctx)
		if err != nil {
			return err
		}
		defer done(ctx)
		sn := e.client.SnapshotService("overlayfs")
		m, err := sn.Prepare(ctx, "a", "", snapshots.WithLabels(map[string]string{"x": "1"}))
		o.e("prepare a", err)
		o.f("  %s", describeMounts(m))
		_, err = sn.Prepare(ctx, "a", "")
		o.e("prepare a again", err)
		_, err = sn.Prepare(ctx, "b", "missing")
		o.e("prepare missing parent", err)
		_, err = sn.Prepare(ctx, "b", "a")
		o.e("prepare active parent", err)
		_, err = sn.View(ctx, "v", "a")
		o.e("view active parent", err)
		i, err := sn.Stat(ctx, "a")
		o.e("stat a", err)
		o.f("  %s created==updated %s", describeSnapshot(i), order(i.Created, i.Updated))
		_, err = sn.Stat(ctx, "missing")
		o.e("stat missing", err)
		u, err := sn.Usage(ctx, "a")
		o.e("usage a", err)
		o.f("  inodes=%d size=%d", u.Inodes, u.Size)
		m, err = sn.Mounts(ctx, "a")
		o.e("mounts a", err)
		o.f("  %s", describeMounts(m))
		_, err = sn.Mounts(ctx, "missing")
		o.e("mounts missing", err)

		o.e("commit a", sn.Commit(ctx, "base", "a", snapshots.WithLabels(map[string]string{"y": "2"})))
		o.e("commit a again", sn.Commit(ctx, "base2", "a"))
		o.e("commit missing", sn.Commit(ctx, "c", "missing"))
		i, err = sn.Stat(ctx, "base")
		o.e("stat base", err)
		o.f("  %s", describeSnapshot(i))
		_, err = sn.Stat(ctx, "a")
		o.e("stat a after commit", err)
		u, err = sn.Usage(ctx, "base")
		o.e("usage base", err)
		o.f("  inodes=%d size=%d", u.Inodes, u.Size)

		m, err = sn.Prepare(ctx, "b", "base")
		o.e("prepare b on base", err)
		o.f("  %s", describeMounts(m))
		m, err = sn.View(ctx, "v", "base", snapshots.WithLabels(map[string]string{"view": "yes"}))
		o.e("view v", err)
		o.f("  %s", describeMounts(m))
		m, err = sn.View(ctx, "v-root", "")
		o.e("view no parent", err)
		o.f("  %s", describeMounts(m))
		i, _ = sn.Stat(ctx, "v")
		o.f("  %s", describeSnapshot(i))
		o.e("commit view", sn.Commit(ctx, "vc", "v"))
		_, err = sn.Prepare(ctx, "c", "base", snapshots.WithLabels(map[string]string{"containerd.io/gc.root": "x"}))
		o.e("prepare with gc label", err)
		o.e("commit to existing name", sn.Commit(ctx, "base", "c"))
		_, err = sn.Prepare(ctx, "", "")
		o.e("prepare empty key", err)

		i, _ = sn.Stat(ctx, "b")
		i.Labels = map[string]string{"l1": "a", "l2": "b"}
		got, err := sn.Update(ctx, i, "labels.l1")
		o.e("update labels.l1", err)
		o.f("  %s moved %s", describeSnapshot(got), order(i.Updated, got.Updated))
		got, err = sn.Update(ctx, i)
		o.e("update no paths", err)
		o.f("  %s", describeSnapshot(got))
		got, err = sn.Update(ctx, snapshots.Info{Name: "b", Labels: map[string]string{"n": "1"}}, "labels")
		o.e("update labels", err)
		o.f("  %s", describeSnapshot(got))
		_, err = sn.Update(ctx, snapshots.Info{Name: "b", Parent: "x"}, "parent")
		o.e("update parent", err)
		_, err = sn.Update(ctx, snapshots.Info{Name: "b"}, "name")
		o.e("update name", err)
		_, err = sn.Update(ctx, snapshots.Info{Name: "missing"}, "labels")
		o.e("update missing", err)

		for _, f := range []string{``, `kind==committed`, `kind==active`, `kind==view`, `parent==base`, `name==b`, `labels.n==1`, `labels.view`, `name~=^v`, `labels.==`} {
			var names []string
			err := sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
				names = append(names, i.Name)
				return nil
			}, f)
			o.e("walk "+f, err)
			sort.Strings(names)
			o.f("  [%s]", strings.Join(names, " "))
		}

		o.e("remove base with children", sn.Remove(ctx, "base"))
		o.e("remove missing", sn.Remove(ctx, "missing"))
		for _, k := range []string{"b", "c", "vc", "v-root", "base"} {
			o.e("remove "+k, sn.Remove(ctx, k))
		}
		_, err = e.client.SnapshotService("nope").Stat(ctx, "x")
		o.e("unknown snapshotter", err)
		return nil
	})

	register("diff", func(ctx context.Context, e *env, o *obs) error {
		ctx, done, err := e.client.WithLease(ctx)
		if err != nil {
			return err
		}
		defer done(ctx)
		sn := e.client.SnapshotService("overlayfs")
		write := func(key string, files map[string]string) error {
			ms, err := sn.Mounts(ctx, key)
			if err != nil {
				return err
			}
			return mount.WithTempMount(ctx, ms, func(root string) error {
				for name, data := range files {
					if err := os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0755); err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0644); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if _, err := sn.Prepare(ctx, "d-base-a", ""); err != nil {
			return err
		}
		if err := write("d-base-a", map[string]string{"etc/base": "base\n"}); err != nil {
			return err
		}
		if err := sn.Commit(ctx, "d-base", "d-base-a"); err != nil {
			return err
		}
		upper, err := sn.Prepare(ctx, "d-upper", "d-base")
		if err != nil {
			return err
		}
		if err := write("d-upper", map[string]string{"etc/new": "new file\n", "etc/base": "changed\n"}); err != nil {
			return err
		}
		lower, err := sn.View(ctx, "d-lower", "d-base")
		if err != nil {
			return err
		}
		ds := e.client.DiffService()
		desc, err := ds.Compare(ctx, lower, upper)
		o.e("compare", err)
		o.f("  mediatype=%s labels=%s size>0 %v", desc.MediaType, labelKeys(desc.Annotations), desc.Size > 0)
		descU, err := ds.Compare(ctx, lower, upper, diff.WithMediaType("application/vnd.oci.image.layer.v1.tar"), diff.WithReference("d-ref"),
			diff.WithLabels(map[string]string{"mine": "1"}))
		o.e("compare uncompressed", err)
		o.f("  mediatype=%s labels=%s", descU.MediaType, labelKeys(descU.Annotations))
		if info, err := e.client.ContentStore().Info(ctx, descU.Digest); err == nil {
			o.f("  stored labels=%s", labelKeys(info.Labels))
		} else {
			o.e("  stored", err)
		}
		_, err = ds.Compare(ctx, lower, upper, diff.WithMediaType("application/x-bogus"))
		o.e("compare bad mediatype", err)

		target, err := sn.Prepare(ctx, "d-target", "d-base")
		if err != nil {
			return err
		}
		applied, err := ds.Apply(ctx, desc, target)
		o.e("apply", err)
		info, err := e.client.ContentStore().Info(ctx, desc.Digest)
		o.e("compare blob info", err)
		o.f("  stored labels=%s", labelKeys(info.Labels))
		o.f("  mediatype=%s digest is uncompressed %v size>0 %v", applied.MediaType, applied.Digest.String() == info.Labels["containerd.io/uncompressed"], applied.Size > 0)
		err = mount.WithReadonlyTempMount(ctx, target, func(root string) error {
			for _, n := range []string{"etc/new", "etc/base"} {
				b, err := os.ReadFile(filepath.Join(root, n))
				if err != nil {
					return err
				}
				o.f("  %s=%q", n, b)
			}
			return nil
		})
		o.e("read applied", err)
		// WithReadonlyTempMount added "ro" to the mounts it was given.
		if target, err = sn.Mounts(ctx, "d-target"); err != nil {
			return err
		}
		_, err = ds.Apply(ctx, descU, target)
		o.e("apply uncompressed", err)
		empty, err := ds.Compare(ctx, lower, lower, diff.WithMediaType("application/vnd.oci.image.layer.v1.tar"))
		o.e("compare same", err)
		o.f("  same: size=%d", empty.Size)
		_, err = ds.Compare(ctx, nil, upper)
		o.e("compare no lower", err)
		_, err = ds.Apply(ctx, desc, lower)
		o.e("apply onto view", err)
		missing := desc
		missing.Digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		_, err = ds.Apply(ctx, missing, target)
		o.e("apply missing blob", err)
		_, err = ds.Compare(ctx, lower, upper, diff.WithReference("d-ref"), diff.WithMediaType("application/vnd.oci.image.layer.v1.tar"))
		o.e("compare same reference again", err)
		bogus := desc
		bogus.MediaType = "application/x-bogus"
		_, err = ds.Apply(ctx, bogus, target)
		o.e("apply bad mediatype", err)
		for _, k := range []string{"d-target", "d-lower", "d-upper", "d-base"} {
			sn.Remove(ctx, k)
		}
		return nil
	})
}
