package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/containerd/content"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func digestOf(s string) digest.Digest { return digest.Digest(s) }

func describeStatus(s content.Status) string {
	return fmt.Sprintf("ref=%s offset=%d total=%d expected=%s started=%s updated=%s", s.Ref, s.Offset, s.Total, s.Expected, ts(s.StartedAt), ts(s.UpdatedAt))
}

func describeInfo(i content.Info) string {
	return fmt.Sprintf("digest=%s size=%d labels=%s created=%s updated=%s", i.Digest, i.Size, labels(i.Labels), ts(i.CreatedAt), ts(i.UpdatedAt))
}

func init() {
	register("content", func(ctx context.Context, e *env, o *obs) error {
		ctx, done, err := e.client.WithLease(ctx)
		if err != nil {
			return err
		}
		defer done(ctx)
		cs := e.client.ContentStore()
		data := []byte("goconform content blob: hello, content store\n")
		dg := digest.FromBytes(data)
		desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: dg, Size: int64(len(data))}

		w, err := cs.Writer(ctx, content.WithRef("ref-a"), content.WithDescriptor(desc))
		o.e("writer", err)
		if err != nil {
			return nil
		}
		_, err = w.Write(data[:10])
		o.e("write part", err)
		st, err := w.Status()
		o.e("writer status", err)
		o.f("  %s", describeStatus(st))
		_, err = cs.Writer(ctx, content.WithRef("ref-a"), content.WithDescriptor(desc))
		o.e("second writer same ref", err)
		o.e("close writer", w.Close())

		st, err = cs.Status(ctx, "ref-a")
		o.e("status", err)
		o.f("  %s", describeStatus(st))
		_, err = cs.Status(ctx, "ref-missing")
		o.e("status missing", err)
		w2, err := cs.Writer(ctx, content.WithRef("ref-b"), content.WithDescriptor(ocispec.Descriptor{Size: 3}))
		o.e("writer b", err)
		if w2 != nil {
			w2.Write([]byte("abc"))
			w2.Close()
		}
		for _, f := range []string{``, `ref==ref-a`, `ref~=^ref-`, `expected==` + string(dg), `ref==`} {
			list, err := cs.ListStatuses(ctx, f)
			o.e("list statuses "+f, err)
			var refs []string
			for _, s := range list {
				refs = append(refs, fmt.Sprintf("%s@%d/%d", s.Ref, s.Offset, s.Total))
			}
			sort.Strings(refs)
			o.f("  [%s]", strings.Join(refs, " "))
		}
		o.e("abort b", cs.Abort(ctx, "ref-b"))
		o.e("abort b again", cs.Abort(ctx, "ref-b"))

		// Resume by ref: the offset is where the last writer stopped.
		w, err = cs.Writer(ctx, content.WithRef("ref-a"), content.WithDescriptor(desc))
		o.e("resume", err)
		if err != nil {
			return nil
		}
		st, _ = w.Status()
		o.f("  resumed %s", describeStatus(st))
		_, err = w.Write(data[st.Offset:])
		o.e("write rest", err)
		o.f("  digest %s", w.Digest())
		o.e("commit wrong size", w.Commit(ctx, desc.Size+1, dg))
		// A failed commit ends that writer; the ingest stays for another.
		reopen := func(what string) content.Writer {
			w, err := cs.Writer(ctx, content.WithRef("ref-a"), content.WithDescriptor(desc))
			o.e(what, err)
			if err == nil {
				st, _ := w.Status()
				o.f("  %s", describeStatus(st))
			}
			return w
		}
		if w = reopen("reopen after wrong size"); w == nil {
			return nil
		}
		o.e("commit wrong digest", w.Commit(ctx, desc.Size, digest.FromString("other")))
		if w = reopen("reopen after wrong digest"); w == nil {
			return nil
		}
		o.e("commit", w.Commit(ctx, desc.Size, dg, content.WithLabels(map[string]string{"l1": "v1", "l2": "v2"})))
		o.e("commit again", w.Commit(ctx, desc.Size, dg))
		w.Close()
		_, err = cs.Status(ctx, "ref-a")
		o.e("status after commit", err)
		_, err = cs.Writer(ctx, content.WithRef("ref-c"), content.WithDescriptor(desc))
		o.e("writer existing digest", err)
		_, err = cs.Writer(ctx)
		o.e("writer without ref", err)

		info, err := cs.Info(ctx, dg)
		o.e("info", err)
		o.f("  %s created==updated %s", describeInfo(info), order(info.CreatedAt, info.UpdatedAt))
		_, err = cs.Info(ctx, digest.FromString("missing"))
		o.e("info missing", err)
		info.Labels = map[string]string{"l1": "new", "l3": "v3"}
		got, err := cs.Update(ctx, info, "labels.l1")
		o.e("update labels.l1", err)
		o.f("  %s moved %s", describeInfo(got), order(info.UpdatedAt, got.UpdatedAt))
		got, err = cs.Update(ctx, info, "labels")
		o.e("update labels", err)
		o.f("  %s", describeInfo(got))
		got, err = cs.Update(ctx, content.Info{Digest: dg, Labels: map[string]string{"x": "y"}})
		o.e("update no paths", err)
		o.f("  %s", describeInfo(got))
		_, err = cs.Update(ctx, content.Info{Digest: dg, Size: 5}, "size")
		o.e("update size", err)
		_, err = cs.Update(ctx, content.Info{Digest: digest.FromString("missing")}, "labels")
		o.e("update missing", err)
		_, err = cs.Update(ctx, content.Info{Digest: dg, Labels: map[string]string{"containerd.io/gc.ref.content": "bad"}}, "labels")
		o.e("update gc label bad digest", err)

		for _, f := range []string{``, `labels.x==y`, `labels.x`, `digest==` + string(dg), `size==3`, `labels.==`} {
			var ds []string
			err := cs.Walk(ctx, func(i content.Info) error {
				ds = append(ds, string(i.Digest))
				return nil
			}, f)
			o.e("walk "+f, err)
			sort.Strings(ds)
			o.f("  [%s]", strings.Join(ds, " "))
		}

		ra, err := cs.ReaderAt(ctx, desc)
		o.e("reader at", err)
		if ra != nil {
			buf := make([]byte, 5)
			n, err := ra.ReadAt(buf, 6)
			o.e("read at", err)
			o.f("  size=%d read %d %q", ra.Size(), n, buf[:n])
			n, err = ra.ReadAt(make([]byte, 100), 40)
			o.e("read at past end", err)
			o.f("  read %d", n)
			ra.Close()
		}
		_, err = cs.ReaderAt(ctx, ocispec.Descriptor{Digest: digest.FromString("missing")})
		o.e("reader at missing", err)
		b, err := content.ReadBlob(ctx, cs, desc)
		o.e("read blob", err)
		o.f("  same %v", string(b) == string(data))

		o.e("delete", cs.Delete(ctx, dg))
		o.e("delete again", cs.Delete(ctx, dg))
		_, err = cs.Info(ctx, dg)
		o.e("info after delete", err)
		return nil
	})
}
