package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/runtime/v2/runc/options"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func init() {
	scenarios = append(scenarios, processScenarios...)
}

var processScenarios = []scenario{
	{"exec-failures", []string{"gc-execfail"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-execfail", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		for i, x := range []struct {
			what string
			edit func(*specs.Process)
		}{
			{"bad cwd", func(p *specs.Process) { p.Cwd = "/nonexistent" }},
			{"not executable", func(p *specs.Process) { p.Args = []string{"/etc/passwd"} }},
			{"relative cwd", func(p *specs.Process) { p.Cwd = "relative" }},
			{"no args", func(p *specs.Process) { p.Args = nil }},
		} {
			spec, err := s.execSpec(ctx, t, false, "true")
			if err != nil {
				return err
			}
			x.edit(spec)
			id := fmt.Sprintf("f%d", i)
			p, err := t.Exec(ctx, id, spec, cio.NullIO)
			o.add("%s exec: %s", x.what, s.errText(err))
			if err != nil {
				continue
			}
			o.add("%s start: %s", x.what, s.errText(p.Start(ctx)))
			o.add("%s status: %s", x.what, s.status(ctx, p))
			o.add("%s delete: %s", x.what, s.deleted(p.Delete(ctx)))
		}
		o.add("kill bad signal: %s", s.errText(t.Kill(ctx, syscall.Signal(999))))
		o.add("kill signal 0: %s", s.errText(t.Kill(ctx, syscall.Signal(0))))
		o.add("status: %s", s.status(ctx, t))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"exec-unstarted-wait", []string{"gc-unstarted"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-unstarted", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		spec, err := s.execSpec(ctx, t, false, "true")
		if err != nil {
			return err
		}
		p, err := t.Exec(ctx, "u1", spec, cio.NullIO)
		if err != nil {
			return err
		}
		ch, err := p.Wait(ctx)
		o.add("wait unstarted: %s", s.errText(err))
		r, err := s.client.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: "gc-unstarted", ExecID: "u1"})
		if err == nil {
			o.add("get: id=%s pid=%d status=%s exit=%d", r.Process.ID, r.Process.Pid, r.Process.Status, r.Process.ExitStatus)
		} else {
			o.add("get: %s", s.errText(err))
		}
		o.add("delete unstarted: %s", s.deleted(p.Delete(ctx)))
		// (Its Wait never returns, containerd's neither.)
		_ = ch
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"init-killed-with-exec", []string{"gc-initkill"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-initkill", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		spec, err := s.execSpec(ctx, t, false, "sleep", "1000")
		if err != nil {
			return err
		}
		p, err := t.Exec(ctx, "k1", spec, cio.NullIO)
		if err != nil {
			return err
		}
		pch, _ := p.Wait(ctx)
		o.add("exec start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:k1")
		// Two waiters on the task: both see the exit.
		ch2, _ := t.Wait(ctx)
		o.add("kill init: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		o.add("result: %s", s.result(ch))
		o.add("result 2: %s", s.result(ch2))
		o.add("exec result: %s", s.result(pch))
		o.add("exec status: %s", s.status(ctx, p))
		o.add("delete with exec: %s", s.deleted(t.Delete(ctx)))
		o.add("exec delete: %s", s.deleted(p.Delete(ctx)))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"exec-get-fields", []string{"gc-fields"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-fields", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		spec, err := s.execSpec(ctx, t, true, "sleep", "1000")
		if err != nil {
			return err
		}
		out := newBuf()
		p, err := t.Exec(ctx, "g1", spec, streams(nil, out, nil, cio.WithTerminal))
		if err != nil {
			return err
		}
		o.add("start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:g1")
		for _, exec := range []string{"", "g1"} {
			r, err := s.client.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: "gc-fields", ExecID: exec})
			if err != nil {
				o.add("get %q: %s", exec, s.errText(err))
				continue
			}
			q := r.Process
			o.add("get %q: id=%s container=%q pid=%s status=%s stdin=%v stdout=%v stderr=%v terminal=%v exit=%d at=%s",
				exec, q.ID, q.ContainerID, s.pidName(q.Pid), q.Status, q.Stdin != "", q.Stdout != "", q.Stderr != "",
				q.Terminal, q.ExitStatus, setOrZero(q.ExitedAt))
		}
		l, err := s.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
		if err == nil {
			for _, q := range l.Tasks {
				if q.ID == "gc-fields" {
					o.add("listed: container=%q pid=%s status=%s", q.ContainerID, s.pidName(q.Pid), q.Status)
				}
			}
		}
		m, err := s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: []string{"namespace==" + s.ns + ",id==gc-fields"}})
		if err == nil {
			o.add("metrics by namespace and id: n=%d", len(m.Metrics))
		} else {
			o.add("metrics: %s", s.errText(err))
		}
		m, err = s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: []string{"namespace==other"}})
		if err == nil {
			o.add("metrics other namespace: n=%d", len(m.Metrics))
		}
		o.add("resize: %s", s.errText(p.Resize(ctx, 10, 10)))
		o.add("closeio tty: %s", s.errText(p.CloseIO(ctx, containerd.WithStdinCloser)))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"runtime-options", []string{"gc-rtopts", "gc-rtv1"}, func(ctx context.Context, s *suite, o *obs) error {
		for _, x := range []struct {
			id, runtime string
			opts        interface{}
		}{
			{"gc-rtopts", "io.containerd.runc.v2", &options.Options{BinaryName: "runc", NoPivotRoot: false}},
			{"gc-rtv1", "io.containerd.runc.v1", nil},
		} {
			c, err := s.client.NewContainer(ctx, x.id, containerd.WithNewSnapshot(x.id+"-snap", s.image),
				containerd.WithRuntime(x.runtime, x.opts),
				containerd.WithNewSpec(oci.WithImageConfig(s.image), oci.WithProcessArgs("sh", "-c", "exit 4")))
			if err != nil {
				return err
			}
			t, ch, err := s.started(ctx, c, cio.NullIO)
			o.add("%s start: %s", x.id, s.errText(err))
			if err == nil {
				o.add("%s result: %s", x.id, s.result(ch))
				o.add("%s delete: %s", x.id, s.deleted(t.Delete(ctx)))
			}
			s.remove(c)
		}
		c, err := s.client.NewContainer(ctx, "gc-badopts", containerd.WithNewSnapshot("gc-badopts-snap", s.image),
			containerd.WithRuntime("io.containerd.runc.v2", &options.Options{BinaryName: "/nonexistent/runc"}),
			containerd.WithNewSpec(oci.WithImageConfig(s.image), oci.WithProcessArgs("true")))
		if err != nil {
			return err
		}
		_, err = c.NewTask(ctx, cio.NullIO)
		o.add("bad runc binary: %s", s.errText(err))
		_, err = c.Task(ctx, nil)
		o.add("task after: %s", s.errText(err))
		s.remove(c)
		return nil
	}},
	// The shim reports the OOM and the exit from two watchers: their order
	// varies (containerd's too), so the events are compared as a set here.
	{"oom", nil, func(ctx context.Context, s *suite, o *obs) error {
		limit := int64(16 << 20)
		swap := limit
		c, err := s.container(ctx, "gc-oom", []string{"sh", "-c", "x=0123456789abcdef; while true; do x=$x$x; done"},
			oci.WithMemoryLimit(uint64(limit)), func(_ context.Context, _ oci.Client, _ *containers.Container, sp *oci.Spec) error {
				sp.Linux.Resources.Memory.Swap = &swap
				return nil
			})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		o.add("result: %s", s.result(ch))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		var lines []string
		for _, env := range s.ev.wait("gc-oom", 5, time.Now().Add(15*time.Second)) {
			lines = append(lines, s.eventLine(env))
		}
		sort.Strings(lines)
		for _, l := range lines {
			o.add("event %s", l)
		}
		return nil
	}},
	// Optional (see main.go): depends on what criu can do on the machine.
	{"checkpoint-restore", []string{"gc-ckrun"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-ckrun", []string{"sh", "-c", "i=0; while true; do i=$((i+1)); sleep 1; done"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		name := "gc-checkpoint:" + s.ns
		img, err := t.Checkpoint(ctx, containerd.WithCheckpointName(name))
		o.add("checkpoint: %s", s.errText(err))
		if err == nil {
			defer func() {
				ctx, cancel := s.bg()
				defer cancel()
				s.client.ImageService().Delete(ctx, name, images.SynchronousDelete())
			}()
			o.add("image name=%v media=%s", img.Name() == name, img.Target().MediaType)
			var kinds []string
			if idx, err := images.Children(ctx, s.client.ContentStore(), img.Target()); err == nil {
				for _, d := range idx {
					kinds = append(kinds, d.MediaType)
				}
			}
			sort.Strings(kinds)
			o.add("image children=%v", kinds)
		}
		o.add("status after checkpoint: %s", s.status(ctx, t))
		o.add("kill: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		o.add("result: %s", s.result(ch))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		if img != nil {
			t2, err := c.NewTask(ctx, cio.NullIO, containerd.WithTaskCheckpoint(img))
			o.add("restore: %s", s.errText(err))
			if err == nil {
				s.notePid(t2.Pid(), "restored")
				ch2, _ := t2.Wait(ctx)
				o.add("restored start: %s", s.errText(t2.Start(ctx)))
				o.add("restored status: %s", s.status(ctx, t2))
				o.add("restored kill: %s", s.errText(t2.Kill(ctx, syscall.SIGKILL)))
				o.add("restored result: %s", s.result(ch2))
				o.add("restored delete: %s", s.deleted(t2.Delete(ctx)))
			}
		}
		// Checkpoint into a directory the caller names (no image).
		dir := filepath.Join(s.dir, "ckdir")
		os.MkdirAll(dir, 0o700)
		t3, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		_, err = t3.Checkpoint(ctx, containerd.WithCheckpointImagePath(dir))
		o.add("checkpoint to path: %s", s.errText(err))
		_, err = os.Stat(filepath.Join(dir, "inventory.img"))
		o.add("inventory written=%v", err == nil)
		o.add("delete kill: %s", s.deleted(t3.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
}
