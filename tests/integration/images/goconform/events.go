package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/containerd"
	eventsapi "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/snapshots"
)

// subscribed collects what a filtered subscription sees until a marker.
func subscribed(ctx context.Context, e *env, o *obs, what string, filters []string, act func() error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ns, _ := namespaces.Namespace(ctx)
	// The marker passes every filter below only through its own subscription
	// check: subscribe with the filters OR the marker topic.
	all := append(append([]string{}, filters...), `topic=="/conform/sub-end"`)
	ch, errs := e.client.Subscribe(sctx, all...)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	pub := func(t string) {
		e.client.EventService().Publish(ctx, t, &eventsapi.NamespaceUpdate{Name: ns})
	}
	// Wait until the subscription is live: markers come back.
	pub("/conform/sub-end")
	live := false
	for !live {
		select {
		case env := <-ch:
			live = env.Topic == "/conform/sub-end"
		case <-tick.C:
			pub("/conform/sub-end")
		case err := <-errs:
			o.e(what+" subscribe", err)
			return
		case <-ctx.Done():
			return
		}
	}
	// Drain later copies of the marker.
	pub("/conform/sub-drain")
	o.e(what+" act", act())
	pub("/conform/sub-end")
	var got []string
	for {
		select {
		case env := <-ch:
			if env.Topic == "/conform/sub-end" {
				o.f("  %s saw [%s]", what, strings.Join(got, " "))
				return
			}
			if !strings.HasPrefix(env.Topic, "/conform/") {
				got = append(got, env.Namespace+env.Topic)
			}
		case err := <-errs:
			o.e(what+" events", err)
			return
		case <-ctx.Done():
			o.f("  %s timed out", what)
			return
		}
	}
}

func init() {
	register("subscribe", func(ctx context.Context, e *env, o *obs) error {
		ctx, done, err := e.client.WithLease(ctx)
		if err != nil {
			return err
		}
		defer done(ctx)
		n := 0
		act := func() error {
			n++
			id := fmt.Sprintf("s%d", n)
			c, err := e.client.NewContainer(ctx, id, containerd.WithNewSpec(oci.WithProcessArgs("true")),
				containerd.WithContainerLabels(map[string]string{"x": "1"}))
			if err != nil {
				return err
			}
			c.SetLabels(ctx, map[string]string{"y": "2"})
			_, err = e.client.SnapshotService("overlayfs").Prepare(ctx, id+"-snap", "", snapshots.WithLabels(map[string]string{"z": "3"}))
			if err != nil {
				return err
			}
			if err := content.WriteBlob(ctx, e.client.ContentStore(), id, strings.NewReader("subscribe "+id),
				descOf("subscribe "+id)); err != nil {
				return err
			}
			e.client.ContentStore().Delete(ctx, descOf("subscribe "+id).Digest)
			return c.Delete(ctx)
		}
		for _, f := range [][]string{
			{`topic~="^/containers/"`},
			{`topic=="/containers/create"`, `topic=="/snapshot/prepare"`},
			{`event.id==s3`},
			{`event.key~="^s4"`},
			{`event.labels.y==2`},
			{`namespace!=conform-subscribe`},
			{`topic~="/content/"`},
			{`event.digest~="sha256"`},
		} {
			subscribed(ctx, e, o, strings.Join(f, " OR "), f, act)
		}
		_, errs := e.client.Subscribe(ctx, `topic==`)
		select {
		case err := <-errs:
			o.e("bad filter", err)
		case <-time.After(10 * time.Second):
			o.f("bad filter: no error")
		}
		return nil
	})
}
