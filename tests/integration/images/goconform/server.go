package main

import (
	"context"
	"regexp"
	"sort"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
)

// Plugins whose registration differs on purpose or belongs elsewhere: the
// metadata store is RocksDB ("rocksdb", not "bolt"); the tasks service is
// the runtime's.
var notCompared = map[string]bool{
	"io.containerd.metadata.v1.bolt":         true,
	"io.containerd.metadata.v1.rocksdb":      true,
	"io.containerd.service.v1.tasks-service": true,
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func init() {
	register("version", func(ctx context.Context, e *env, o *obs) error {
		v, err := e.client.Version(ctx)
		o.e("version", err)
		o.f("version=%q revision=%q", v.Version, v.Revision)
		s1, err := e.client.Server(ctx)
		o.e("server", err)
		s2, _ := e.client.Server(ctx)
		o.f("uuid format=%v stable=%v", uuidRe.MatchString(s1.UUID), s1.UUID == s2.UUID)
		ok, err := e.client.IsServing(ctx)
		o.e("serving", err)
		o.f("serving=%v", ok)
		return nil
	})

	register("introspection", func(ctx context.Context, e *env, o *obs) error {
		is := e.client.IntrospectionService()
		r, err := is.Plugins(ctx, []string{`type==io.containerd.snapshotter.v1,id==overlayfs`, `id==native`,
			`type==io.containerd.differ.v1`, `type==io.containerd.content.v1`, `type==io.containerd.gc.v1`,
			`type==io.containerd.event.v1`, `type==io.containerd.grpc.v1,id==introspection`})
		o.e("plugins details", err)
		if r != nil {
			// Sorted: the plugin graph does not order plugins as containerd does.
			sort.Slice(r.Plugins, func(i, j int) bool {
				return r.Plugins[i].Type+r.Plugins[i].ID < r.Plugins[j].Type+r.Plugins[j].ID
			})
			for _, p := range r.Plugins {
				var keys []string
				for k := range p.Exports {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var plats []string
				for _, pl := range p.Platforms {
					plats = append(plats, pl.OS+"/"+pl.Architecture+"/"+pl.Variant)
				}
				o.f("plugin %s %s requires=%v platforms=%v exports=%v caps=%v initerr=%v", p.Type, p.ID, p.Requires, plats, keys, p.Capabilities, p.InitErr)
			}
		}
		for _, f := range []string{`type==io.containerd.grpc.v1`, `type==io.containerd.service.v1`, `type==io.containerd.metadata.v1`,
			`id~=^(overlayfs|native)$`, `type==io.containerd.differ.v1`, `type==io.containerd.gc.v1`, `type==io.containerd.content.v1`} {
			r, err := is.Plugins(ctx, []string{f})
			o.e("plugins "+f, err)
			if r != nil {
				var ids []string
				for _, p := range r.Plugins {
					if notCompared[p.Type+"."+p.ID] {
						continue
					}
					ids = append(ids, p.ID+"("+strings.Join(p.Requires, ",")+")")
				}
				sort.Strings(ids)
				o.f("  %s", strings.Join(ids, " "))
			}
		}
		r, err = is.Plugins(ctx, []string{`type==io.containerd.grpc.v1`, `id==version`})
		o.e("plugins or", err)
		if r != nil {
			o.f("  or count=%d", len(r.Plugins))
		}
		_, err = is.Plugins(ctx, []string{`type==`})
		o.e("plugins bad filter", err)
		_, err = is.Plugins(ctx, []string{`id~=(`})
		o.e("plugins bad regex", err)
		return nil
	})

	register("namespaces", func(ctx context.Context, e *env, o *obs) error {
		ns := e.client.NamespaceService()
		o.e("create", ns.Create(ctx, "conf-ns1", map[string]string{"a": "1", "b": "2"}))
		o.e("create again", ns.Create(ctx, "conf-ns1", nil))
		o.e("create bad name", ns.Create(ctx, "-bad", nil))
		o.e("create label bad", ns.Create(ctx, "conf-ns2", map[string]string{"": "x"}))
		o.e("create empty value", ns.Create(ctx, "conf-ns3", map[string]string{"e": "", "f": "1"}))
		l, err := ns.Labels(ctx, "conf-ns3")
		o.e("labels empty value", err)
		o.f("labels=%s", labels(l))
		o.e("delete conf-ns3", ns.Delete(ctx, "conf-ns3"))
		l, err = ns.Labels(ctx, "conf-ns1")
		o.e("labels", err)
		o.f("labels=%s", labels(l))
		o.e("set label", ns.SetLabel(ctx, "conf-ns1", "c", "3"))
		o.e("remove label", ns.SetLabel(ctx, "conf-ns1", "a", ""))
		l, _ = ns.Labels(ctx, "conf-ns1")
		o.f("labels=%s", labels(l))
		_, err = ns.Labels(ctx, "conf-missing")
		o.e("labels missing", err)
		o.e("set label missing", ns.SetLabel(ctx, "conf-missing", "a", "b"))
		list, err := ns.List(ctx)
		o.e("list", err)
		has := false
		for _, n := range list {
			has = has || n == "conf-ns1"
		}
		o.f("listed=%v", has)
		// A namespace holding a container cannot go.
		nctx := namespaces.WithNamespace(ctx, "conf-ns1")
		c, err := e.client.NewContainer(nctx, "c1", containerd.WithNewSpec(oci.WithProcessArgs("true")))
		o.e("container in ns", err)
		o.e("delete non-empty", ns.Delete(ctx, "conf-ns1"))
		if c != nil {
			o.e("delete container", c.Delete(nctx))
		}
		o.e("delete", ns.Delete(ctx, "conf-ns1"))
		o.e("delete again", ns.Delete(ctx, "conf-ns1"))
		return nil
	})
}
