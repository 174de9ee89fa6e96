package main

import (
	"context"
	"sort"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/oci"
)

// The filter language's corners, through the container store.
func init() {
	register("filters", func(ctx context.Context, e *env, o *obs) error {
		spec := containerd.WithNewSpec(oci.WithProcessArgs("true"))
		for _, c := range []struct {
			id string
			l  map[string]string
		}{
			{"f1", map[string]string{"a.b": "x", "k": "v1", "sp": "has space"}},
			{"f2", map[string]string{"a": "x", "k": "v2", "q": `say "hi"`}},
			{"f3", map[string]string{"k": "", "z": "1,2"}},
		} {
			if _, err := e.client.NewContainer(ctx, c.id, spec, containerd.WithContainerLabels(c.l)); err != nil {
				return err
			}
		}
		for _, f := range []string{
			`labels."a.b"==x`, `labels.a.b==x`, `labels.a==x`, `labels.k~="^v"`, `labels.k~=v[12]`,
			`labels.sp=="has space"`, `labels.sp==has space`, `labels.q=="say \"hi\""`, `labels.z=="1,2"`,
			`labels.z==1,2`, `labels.k!=v1`, `labels.k`, `labels."k"`, `id~=f`, `id~="^f[13]$"`, `id==f1,labels.k==v1`,
			`id==f1|id==f2`, `id==f1 | id==f3`, `id == f1`, `id=="f1"`, `id==/f1/`, `labels.k~=/v1/`,
			`runtime.name~=runc`, `runtime==x`, `spec==x`, `snapshotter==`, `image`, `labels`, `nosuchfield`,
			`id===f1`, `id=!f1`, `id==f1,`, `,id==f1`, `|`, `labels.k~=[`,
		} {
			list, err := e.client.ContainerService().List(ctx, f)
			var ids []string
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			sort.Strings(ids)
			if err != nil {
				o.e("filter "+f, err)
			} else {
				o.f("filter %s: [%s]", f, strings.Join(ids, " "))
			}
		}
		// The same filters on leases and content, which adapt fields differently.
		lm := e.client.LeasesService()
		lm.Create(ctx, leases.WithID("fl1"), leases.WithLabels(map[string]string{"a.b": "x", "k": "v1"}))
		for _, f := range []string{`labels."a.b"==x`, `labels.a.b==x`, `id~=fl`, `created_at`, `labels.k~=v`} {
			l, err := lm.List(ctx, f)
			o.e("lease filter "+f, err)
			o.f("  n=%d", len(l))
		}
		for _, f := range []string{`ref~=x`, `total==1`, `offset`, `labels.x`} {
			_, err := e.client.ContentStore().ListStatuses(ctx, f)
			o.e("status filter "+f, err)
		}
		for _, f := range []string{`size==1`, `digest~=sha`, `labels.a.b`} {
			err := e.client.ContentStore().Walk(ctx, func(content.Info) error { return nil }, f)
			o.e("content filter "+f, err)
		}
		return nil
	})
}
