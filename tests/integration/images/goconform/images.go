package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/leases"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const testRef = "docker.io/library/busybox:latest"

func importTar(ctx context.Context, e *env) error {
	f, err := os.Open(e.image)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = e.client.Import(ctx, f)
	return err
}

func describeImage(i images.Image) string {
	return fmt.Sprintf("name=%s labels=%s target=%s %s %d created=%s updated=%s", i.Name, labels(i.Labels),
		i.Target.MediaType, i.Target.Digest, i.Target.Size, ts(i.CreatedAt), ts(i.UpdatedAt))
}

func init() {
	register("images", func(ctx context.Context, e *env, o *obs) error {
		// Under a lease until the end: the bogus target below must not let
		// the collector take the manifest meanwhile.
		lm := e.client.LeasesService()
		lease, err := lm.Create(ctx, leases.WithID("images-scenario"))
		if err != nil {
			return err
		}
		lctx := ctx
		ctx = leases.WithLease(ctx, lease.ID)
		f, err := os.Open(e.image)
		if err != nil {
			return err
		}
		imgs, err := e.client.Import(ctx, f)
		f.Close()
		o.e("import", err)
		for _, i := range imgs {
			o.f("  imported %s", describeImage(i))
		}
		img, err := e.client.GetImage(ctx, testRef)
		o.e("get", err)
		if err != nil {
			return nil
		}
		o.f("image %s", describeImage(img.Metadata()))
		_, err = e.client.GetImage(ctx, "docker.io/library/missing:latest")
		o.e("get missing", err)

		cfg, err := img.Config(ctx)
		o.e("config", err)
		o.f("config %s %s %d", cfg.MediaType, cfg.Digest, cfg.Size)
		rootfs, err := img.RootFS(ctx)
		o.e("rootfs", err)
		o.f("rootfs %v", rootfs)
		size, err := img.Size(ctx)
		o.e("size", err)
		o.f("size is the blobs' total %v", size == facts.blobTotal)
		usage, err := img.Usage(ctx)
		o.e("usage", err)
		o.f("usage is the size %v", usage == size)
		ok, err := img.IsUnpacked(ctx, "overlayfs")
		o.e("is unpacked", err)
		o.f("unpacked=%v", ok)
		o.e("unpack", img.Unpack(ctx, "overlayfs"))
		ok, err = img.IsUnpacked(ctx, "overlayfs")
		o.e("is unpacked", err)
		o.f("unpacked=%v", ok)
		usage, err = img.Usage(ctx, containerd.WithSnapshotUsage())
		o.e("usage with snapshots", err)
		o.f("usage with snapshots >size %v", usage > size)
		o.e("unpack again", img.Unpack(ctx, "overlayfs"))
		// The unpacked chain: the top snapshot named by its chain id.
		sn := e.client.SnapshotService("overlayfs")
		var chain []string
		err = sn.Walk(ctx, func(_ context.Context, i snapshotsInfo) error {
			chain = append(chain, fmt.Sprintf("%s parent=%q kind=%v labels=%s", i.Name, i.Parent, i.Kind, labelKeys(i.Labels)))
			return nil
		})
		o.e("walk snapshots", err)
		sort.Strings(chain)
		for _, c := range chain {
			o.f("  snapshot %s", c)
		}
		// Config blob labels after unpack: the gc references.
		for _, d := range []string{string(img.Target().Digest), string(cfg.Digest)} {
			info, err := e.client.ContentStore().Info(ctx, digestOf(d))
			o.e("content info", err)
			o.f("  content %s labels=%s", d, labels(info.Labels))
		}

		is := e.client.ImageService()
		m := img.Metadata()
		m.Labels = map[string]string{"a": "1", "b": "2"}
		got, err := is.Update(ctx, m, "labels.a")
		o.e("update labels.a", err)
		o.f("  %s", describeImage(got))
		o.f("  updated moved %s created same %s", order(m.UpdatedAt, got.UpdatedAt), order(m.CreatedAt, got.CreatedAt))
		got, err = is.Update(ctx, m, "labels")
		o.e("update labels", err)
		o.f("  %s", describeImage(got))
		m2 := got
		m2.Target.Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
		_, err = is.Update(ctx, m2, "target")
		o.e("update target bogus", err)
		_, err = is.Update(ctx, m2, "name")
		o.e("update name", err)
		_, err = is.Update(ctx, m2, "nope")
		o.e("update unknown", err)
		_, err = is.Update(ctx, images.Image{Name: "missing", Target: got.Target})
		o.e("update missing", err)
		_, err = is.Update(ctx, images.Image{Name: testRef})
		o.e("update empty target", err)
		got, err = is.Update(ctx, images.Image{Name: testRef, Target: got.Target, Labels: map[string]string{"c": "3"}})
		o.e("update all", err)
		o.f("  %s", describeImage(got))

		_, err = is.Create(ctx, images.Image{Name: testRef, Target: got.Target})
		o.e("create dup", err)
		_, err = is.Create(ctx, images.Image{Name: "", Target: got.Target})
		o.e("create empty name", err)
		_, err = is.Create(ctx, images.Image{Name: "noTarget"})
		o.e("create no target", err)
		_, err = is.Create(ctx, images.Image{Name: "x", Target: ocispec.Descriptor{MediaType: "m", Size: 1}})
		o.e("create bad digest", err)
		cp, err := is.Create(ctx, images.Image{Name: "copy:1", Target: got.Target, Labels: map[string]string{"tier": "x"}})
		o.e("create copy", err)
		o.f("  %s", describeImage(cp))
		for _, f := range []string{``, `name==copy:1`, `labels.tier==x`, `name~=^docker`, `target.mediatype==` + got.Target.MediaType, `name==`, `labels.==`} {
			list, err := e.client.ListImages(ctx, f)
			o.e("list "+f, err)
			var names []string
			for _, i := range list {
				names = append(names, i.Name())
			}
			sort.Strings(names)
			o.f("  [%s]", strings.Join(names, " "))
		}

		var buf bytes.Buffer
		err = e.client.Export(ctx, &buf, archive.WithImage(is, testRef), archive.WithPlatform(platformsDefault()))
		o.e("export", err)
		o.f("  export non-empty %v", buf.Len() > 0)
		back, err := e.client.Import(ctx, &buf, containerd.WithImageRefTranslator(func(s string) string { return "roundtrip/" + s }))
		o.e("re-import", err)
		for _, i := range back {
			o.f("  reimported %s same target %v", i.Name, i.Target.Digest == got.Target.Digest)
		}

		o.e("delete copy", is.Delete(ctx, "copy:1"))
		o.e("delete copy again", is.Delete(ctx, "copy:1"))
		for _, i := range back {
			o.e("delete reimported", is.Delete(ctx, i.Name, images.SynchronousDelete()))
		}
		o.e("delete sync", is.Delete(ctx, testRef, images.SynchronousDelete()))
		o.e("delete lease sync", lm.Delete(lctx, lease, leases.SynchronousDelete))
		// Gone with the last image: its blobs, and the unpacked snapshots
		// the config blob referenced.
		_, err = e.client.ContentStore().Info(ctx, digestOf(string(cfg.Digest)))
		o.e("config blob after delete", err)
		n := 0
		err = sn.Walk(ctx, func(context.Context, snapshotsInfo) error { n++; return nil })
		o.e("walk after delete", err)
		o.f("  snapshots left %d", n)
		return nil
	})
}
