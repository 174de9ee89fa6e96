package main

import (
	"context"
	"strings"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/namespaces"
)

// Content is shared between namespaces on disk, not in what each sees; a
// namespace holding things cannot be deleted.
func init() {
	register("shared", func(ctx context.Context, e *env, o *obs) error {
		lm := e.client.LeasesService()
		la, err := lm.Create(ctx, leases.WithID("a"))
		if err != nil {
			return err
		}
		actx := leases.WithLease(ctx, la.ID)
		data := "goconform shared blob\n"
		o.e("write in a", content.WriteBlob(actx, e.client.ContentStore(), "shared", strings.NewReader(data), descOf(data)))

		other := "conf-shared-b"
		bctx := namespaces.WithNamespace(context.Background(), other)
		bctx, cancel := context.WithCancel(bctx)
		defer cancel()
		_, err = e.client.ContentStore().Info(bctx, descOf(data).Digest)
		o.e("info in b before", err)
		lb, err := lm.Create(bctx, leases.WithID("b"))
		o.e("lease in b", err)
		bl := leases.WithLease(bctx, lb.ID)
		w, err := e.client.ContentStore().Writer(bl, content.WithRef("shared"), content.WithDescriptor(descOf(data)))
		o.e("writer in b", err)
		if err == nil {
			st, _ := w.Status()
			o.f("  %s", describeStatus(st))
			_, err = w.Write([]byte(data))
			o.e("write in b", err)
			o.e("commit in b", w.Commit(bl, int64(len(data)), descOf(data).Digest))
			w.Close()
		}
		i, err := e.client.ContentStore().Info(bctx, descOf(data).Digest)
		o.e("info in b after", err)
		o.f("  %s", describeInfo(i))
		o.e("delete in a", e.client.ContentStore().Delete(actx, descOf(data).Digest))
		_, err = e.client.ContentStore().Info(bctx, descOf(data).Digest)
		o.e("info in b after delete in a", err)
		b, err := content.ReadBlob(bctx, e.client.ContentStore(), descOf(data))
		o.e("read in b", err)
		o.f("  same %v", string(b) == data)

		// What a namespace delete names, in order.
		if err := importTar(bl, e); err != nil {
			return err
		}
		img, err := e.client.GetImage(bl, testRef)
		if err != nil {
			return err
		}
		if err := img.Unpack(bl, "overlayfs"); err != nil {
			return err
		}
		nss := e.client.NamespaceService()
		o.e("delete b (everything)", nss.Delete(ctx, other))
		o.e("delete image", e.client.ImageService().Delete(bctx, testRef))
		o.e("delete b (blobs, snapshots)", nss.Delete(ctx, other))
		o.e("delete lease b sync", lm.Delete(bctx, lb, leases.SynchronousDelete))
		o.e("delete b (after gc)", nss.Delete(ctx, other))
		_, err = e.client.ImageService().List(bctx)
		o.e("list in deleted namespace", err)
		_, err = e.client.ImageService().Create(bctx, images.Image{Name: "x", Target: img.Target()})
		o.e("create in deleted namespace (recreates it)", err)
		l, _ := nss.List(ctx)
		found := false
		for _, n := range l {
			found = found || n == other
		}
		o.f("  namespace back %v", found)
		return nil
	})
}
