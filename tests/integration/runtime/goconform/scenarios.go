package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	v1stats "github.com/containerd/cgroups/stats/v1"
	v2stats "github.com/containerd/cgroups/v2/stats"
	"github.com/containerd/containerd"
	eventsapi "github.com/containerd/containerd/api/events"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
	_ "github.com/containerd/containerd/metrics/types/v1" // registers the metrics types
	_ "github.com/containerd/containerd/metrics/types/v2"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/typeurl"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostMetricsType is the type of a task's metrics on this machine: the shim
// reports cgroup v2 metrics on a unified hierarchy, v1 metrics otherwise.
func hostMetricsType() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "io.containerd.cgroups.v2.Metrics"
	}
	return "io.containerd.cgroups.v1.Metrics"
}

// buf is an output stream that can be waited on.
type buf struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newBuf() *buf { return &buf{changed: make(chan struct{})} }

func (b *buf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

func (b *buf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor blocks until the output contains s (false after 30 s).
func (b *buf) waitFor(s string) bool {
	timeout := time.After(30 * time.Second)
	for {
		b.mu.Lock()
		has, ch := strings.Contains(b.b.String(), s), b.changed
		b.mu.Unlock()
		if has {
			return true
		}
		select {
		case <-ch:
		case <-timeout:
			return false
		}
	}
}

// bg is a context for cleanups that must run even after a scenario's expired.
func (s *suite) bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(namespaces.WithNamespace(context.Background(), s.ns), 30*time.Second)
}

func (s *suite) container(ctx context.Context, id string, args []string, extra ...oci.SpecOpts) (containerd.Container, error) {
	opts := append([]oci.SpecOpts{oci.WithImageConfig(s.image), oci.WithProcessArgs(args...)}, extra...)
	return s.client.NewContainer(ctx, id, containerd.WithNewSnapshot(id+"-snap", s.image),
		containerd.WithNewSpec(opts...))
}

// remove deletes the container and whatever task it still has.
func (s *suite) remove(c containerd.Container) {
	ctx, cancel := s.bg()
	defer cancel()
	if t, err := c.Task(ctx, nil); err == nil {
		t.Delete(ctx, containerd.WithProcessKill)
	}
	c.Delete(ctx, containerd.WithSnapshotCleanup)
}

// fifoDir (-fifo-dir) holds the FIFOs of every streams() IO; empty: cio's
// default.
var fifoDir string

func streams(stdin io.Reader, out, errw io.Writer, opts ...cio.Opt) cio.Creator {
	base := []cio.Opt{cio.WithStreams(stdin, out, errw)}
	if fifoDir != "" {
		base = append(base, cio.WithFIFODir(fifoDir))
	}
	return cio.NewCreator(append(base, opts...)...)
}

// result waits for an exit status (30 s at most).
func (s *suite) result(ch <-chan containerd.ExitStatus) string {
	select {
	case st := <-ch:
		code, at, err := st.Result()
		if err != nil {
			return "wait error " + s.errText(err)
		}
		return fmt.Sprintf("exit=%d at=%s", code, setOrZero(at))
	case <-time.After(30 * time.Second):
		return "wait timed out"
	}
}

func (s *suite) deleted(st *containerd.ExitStatus, err error) string {
	if err != nil {
		return s.errText(err)
	}
	return fmt.Sprintf("exit=%d at=%s", st.ExitCode(), setOrZero(st.ExitTime()))
}

func (s *suite) status(ctx context.Context, p containerd.Process) string {
	st, err := p.Status(ctx)
	if err != nil {
		return s.errText(err)
	}
	return fmt.Sprintf("%s exit=%d at=%s", st.Status, st.ExitStatus, setOrZero(st.ExitTime))
}

func (s *suite) execSpec(ctx context.Context, t containerd.Task, tty bool, args ...string) (*specs.Process, error) {
	spec, err := t.Spec(ctx)
	if err != nil {
		return nil, err
	}
	p := *spec.Process
	p.Args = args
	p.Terminal = tty
	return &p, nil
}

// started creates and starts a task, returning it and its exit channel.
func (s *suite) started(ctx context.Context, c containerd.Container, ioc cio.Creator) (containerd.Task, <-chan containerd.ExitStatus, error) {
	t, err := c.NewTask(ctx, ioc)
	if err != nil {
		return nil, nil, err
	}
	s.notePid(t.Pid(), "init")
	ch, err := t.Wait(ctx)
	if err != nil {
		return t, nil, err
	}
	return t, ch, t.Start(ctx)
}

var scenarios = []scenario{
	{"task-exit-status", []string{"gc-exit"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-exit", []string{"sh", "-c", "echo out; echo err >&2; exit 3"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		out, errw := newBuf(), newBuf()
		t, err := c.NewTask(ctx, streams(nil, out, errw))
		if err != nil {
			return err
		}
		s.notePid(t.Pid(), "init")
		o.add("pid set=%v", t.Pid() > 0)
		o.add("status before start: %s", s.status(ctx, t))
		ch, err := t.Wait(ctx)
		o.add("wait: %s", s.errText(err))
		o.add("start: %s", s.errText(t.Start(ctx)))
		o.add("result: %s", s.result(ch))
		o.add("status: %s", s.status(ctx, t))
		t.IO().Wait()
		o.add("stdout=%q stderr=%q", out.String(), errw.String())
		o.add("start again: %s", s.errText(t.Start(ctx)))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		o.add("status after delete: %s", s.status(ctx, t))
		o.add("delete again: %s", s.deleted(t.Delete(ctx)))
		_, err = c.Task(ctx, nil)
		o.add("container task: %s", s.errText(err))
		return nil
	}},
	{"short-task", []string{"gc-short"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-short", []string{"true"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, err := c.NewTask(ctx, cio.NullIO)
		if err != nil {
			return err
		}
		pid := t.Pid()
		s.notePid(pid, "init")
		o.add("pid set=%v", pid > 0)
		ch, _ := t.Wait(ctx)
		o.add("start: %s", s.errText(t.Start(ctx)))
		o.add("pid after start same=%v", t.Pid() == pid)
		o.add("result: %s", s.result(ch))
		ch2, err := t.Wait(ctx)
		o.add("wait stopped: %s", s.errText(err))
		if err == nil {
			o.add("result stopped: %s", s.result(ch2))
		}
		ps, err := t.Pids(ctx)
		o.add("pids stopped: n=%d %s", len(ps), s.errText(err))
		o.add("kill stopped: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		o.add("pause stopped: %s", s.errText(t.Pause(ctx)))
		o.add("resize stopped: %s", s.errText(t.Resize(ctx, 80, 24)))
		o.add("closeio stopped: %s", s.errText(t.CloseIO(ctx, containerd.WithStdinCloser)))
		o.add("update stopped: %s", s.errText(t.Update(ctx, containerd.WithAnnotations(map[string]string{"a": "b"}))))
		spec, err := s.execSpec(ctx, t, false, "true")
		if err == nil {
			_, err = t.Exec(ctx, "x0", spec, cio.NullIO)
		}
		o.add("exec stopped: %s", s.errText(err))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"delete-running", []string{"gc-delrun"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-delrun", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		o.add("delete running: %s", s.deleted(t.Delete(ctx)))
		o.add("status: %s", s.status(ctx, t))
		o.add("container delete: %s", s.errText(c.Delete(ctx)))
		_, err = c.NewTask(ctx, cio.NullIO)
		o.add("new task again: %s", s.errText(err))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		o.add("result: %s", s.result(ch))
		return nil
	}},
	{"delete-created", []string{"gc-delcreated"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-delcreated", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, err := c.NewTask(ctx, cio.NullIO)
		if err != nil {
			return err
		}
		s.notePid(t.Pid(), "init")
		ps, err := t.Pids(ctx)
		o.add("pids created: n=%d %s", len(ps), s.errText(err))
		o.add("delete created: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"kill-signals", []string{"gc-kill"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-kill", []string{"sh", "-c", `trap "exit 42" TERM; echo ready; while true; do sleep 1; done`})
		if err != nil {
			return err
		}
		defer s.remove(c)
		out := newBuf()
		t, ch, err := s.started(ctx, c, streams(nil, out, io.Discard))
		if err != nil {
			return err
		}
		o.add("ready=%v", out.waitFor("ready"))
		o.add("status: %s", s.status(ctx, t))
		o.add("kill TERM: %s", s.errText(t.Kill(ctx, syscall.SIGTERM)))
		o.add("result: %s", s.result(ch))
		o.add("kill stopped: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		o.add("kill stopped exec: %s", s.errText(t.Kill(ctx, syscall.SIGKILL, containerd.WithKillExecID("nosuch"))))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		o.add("kill deleted: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		_, err = s.client.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: "gc-nosuch"})
		o.add("get unknown container: %s", s.errText(err))
		return nil
	}},
	{"kill-all", []string{"gc-killall"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-killall", []string{"sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		out := newBuf()
		t, ch, err := s.started(ctx, c, streams(nil, out, io.Discard))
		if err != nil {
			return err
		}
		o.add("ready=%v", out.waitFor("ready"))
		o.add("kill exec missing: %s", s.errText(t.Kill(ctx, syscall.SIGKILL, containerd.WithKillExecID("nosuch"))))
		o.add("kill all: %s", s.errText(t.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll)))
		o.add("result: %s", s.result(ch))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"pids-exec-kill", []string{"gc-pids"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-pids", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		ps, err := t.Pids(ctx)
		o.add("pids: n=%d %s", len(ps), s.errText(err))
		if len(ps) == 1 {
			o.add("pid is init=%v info=%v", ps[0].Pid == t.Pid(), ps[0].Info != nil)
		}
		spec, err := s.execSpec(ctx, t, false, "sleep", "1000")
		if err != nil {
			return err
		}
		p, err := t.Exec(ctx, "e1", spec, cio.NullIO)
		if err != nil {
			return err
		}
		pch, _ := p.Wait(ctx)
		o.add("exec start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:e1")
		ps, err = t.Pids(ctx)
		o.add("pids with exec: n=%d %s", len(ps), s.errText(err))
		for _, pi := range ps {
			if pi.Info == nil {
				o.add("  %s info=nil", s.pidName(pi.Pid))
				continue
			}
			v, err := typeurl.UnmarshalAny(pi.Info)
			o.add("  %s info=%s %T %s", s.pidName(pi.Pid), pi.Info.GetTypeUrl(), v, s.errText(err))
			if d, ok := v.(interface{ GetExecID() string }); ok {
				o.add("    exec_id=%q", d.GetExecID())
			}
		}
		o.add("resize no tty: %s", s.errText(t.Resize(ctx, 80, 24)))
		o.add("exec resize no tty: %s", s.errText(p.Resize(ctx, 80, 24)))
		o.add("exec kill: %s", s.errText(p.Kill(ctx, syscall.SIGKILL)))
		o.add("exec result: %s", s.result(pch))
		o.add("exec kill stopped: %s", s.errText(p.Kill(ctx, syscall.SIGKILL)))
		o.add("exec status: %s", s.status(ctx, p))
		o.add("exec delete: %s", s.deleted(p.Delete(ctx)))
		o.add("kill: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		o.add("result: %s", s.result(ch))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"pause-resume", []string{"gc-pause"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-pause", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, err := c.NewTask(ctx, cio.NullIO)
		if err != nil {
			return err
		}
		s.notePid(t.Pid(), "init")
		o.add("status: %s", s.status(ctx, t))
		o.add("pause created: %s", s.errText(t.Pause(ctx)))
		o.add("status: %s", s.status(ctx, t))
		o.add("resume created: %s", s.errText(t.Resume(ctx)))
		o.add("start: %s", s.errText(t.Start(ctx)))
		o.add("status: %s", s.status(ctx, t))
		o.add("resume running: %s", s.errText(t.Resume(ctx)))
		o.add("pause: %s", s.errText(t.Pause(ctx)))
		o.add("status: %s", s.status(ctx, t))
		o.add("pause paused: %s", s.errText(t.Pause(ctx)))
		spec, _ := s.execSpec(ctx, t, false, "true")
		p, err := t.Exec(ctx, "p1", spec, cio.NullIO)
		o.add("exec paused: %s", s.errText(err))
		if err == nil {
			o.add("exec start paused: %s", s.errText(p.Start(ctx)))
			o.add("exec delete paused: %s", s.deleted(p.Delete(ctx, containerd.WithProcessKill)))
		}
		o.add("resume: %s", s.errText(t.Resume(ctx)))
		o.add("status: %s", s.status(ctx, t))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"exec-output", []string{"gc-exec"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-exec", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		spec, err := s.execSpec(ctx, t, false, "sh", "-c", "echo exec-out; echo exec-err >&2; exit 5")
		if err != nil {
			return err
		}
		out, errw := newBuf(), newBuf()
		p, err := t.Exec(ctx, "x1", spec, streams(nil, out, errw))
		o.add("exec: %s", s.errText(err))
		if err != nil {
			return nil
		}
		o.add("pid before start=%d", p.Pid())
		o.add("status before start: %s", s.status(ctx, p))
		ch, err := p.Wait(ctx)
		o.add("wait: %s", s.errText(err))
		o.add("start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:x1")
		o.add("pid set=%v", p.Pid() > 0)
		o.add("result: %s", s.result(ch))
		ch2, err := p.Wait(ctx)
		o.add("wait stopped: %s", s.errText(err))
		if err == nil {
			o.add("result stopped: %s", s.result(ch2))
		}
		o.add("status: %s", s.status(ctx, p))
		p.IO().Wait()
		o.add("stdout=%q stderr=%q", out.String(), errw.String())
		o.add("start again: %s", s.errText(p.Start(ctx)))
		o.add("delete: %s", s.deleted(p.Delete(ctx)))
		o.add("status after delete: %s", s.status(ctx, p))
		_, err = p.Wait(ctx)
		o.add("wait after delete: %s", s.errText(err))
		o.add("delete again: %s", s.deleted(p.Delete(ctx)))
		_, err = t.LoadProcess(ctx, "x1", nil)
		o.add("load deleted: %s", s.errText(err))
		_, err = s.client.TaskService().DeleteProcess(ctx, &tasksapi.DeleteProcessRequest{ContainerID: "gc-exec", ExecID: "nosuch"})
		o.add("delete unknown exec: %s", s.errText(err))
		_, err = s.client.TaskService().Wait(ctx, &tasksapi.WaitRequest{ContainerID: "gc-exec", ExecID: "nosuch"})
		o.add("wait unknown exec: %s", s.errText(err))
		_, err = s.client.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: "gc-exec", ExecID: "nosuch"})
		o.add("get unknown exec: %s", s.errText(err))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"exec-errors", []string{"gc-execerr"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-execerr", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		spec, err := s.execSpec(ctx, t, false, "nosuch-binary")
		if err != nil {
			return err
		}
		p, err := t.Exec(ctx, "x2", spec, cio.NullIO)
		o.add("exec missing: %s", s.errText(err))
		if err == nil {
			ch, err := p.Wait(ctx)
			o.add("wait: %s", s.errText(err))
			o.add("start missing: %s", s.errText(p.Start(ctx)))
			o.add("status: %s", s.status(ctx, p))
			if ch != nil {
				o.add("result: %s", s.result(ch))
			}
			o.add("delete: %s", s.deleted(p.Delete(ctx)))
		}
		p, err = t.Exec(ctx, "x3", spec, cio.NullIO)
		o.add("exec never started: %s", s.errText(err))
		if err == nil {
			o.add("status: %s", s.status(ctx, p))
			o.add("delete: %s", s.deleted(p.Delete(ctx)))
		}
		spec.Args = []string{"sleep", "1000"}
		p, err = t.Exec(ctx, "x4", spec, cio.NullIO)
		o.add("exec x4: %s", s.errText(err))
		_, err = t.Exec(ctx, "x4", spec, cio.NullIO)
		o.add("exec x4 again (created): %s", s.errText(err))
		if p != nil {
			o.add("start x4: %s", s.errText(p.Start(ctx)))
			s.notePid(p.Pid(), "exec:x4")
		}
		_, err = t.Exec(ctx, "x4", spec, cio.NullIO)
		o.add("exec x4 again (running): %s", s.errText(err))
		_, err = t.Exec(ctx, "", spec, cio.NullIO)
		o.add("exec empty id: %s", s.errText(err))
		_, err = t.Exec(ctx, "bad/id", spec, cio.NullIO)
		o.add("exec bad id: %s", s.errText(err))
		if p != nil {
			o.add("delete running exec: %s", s.deleted(p.Delete(ctx)))
			o.add("force delete exec: %s", s.deleted(p.Delete(ctx, containerd.WithProcessKill)))
		}
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"exec-tty-large", []string{"gc-tty"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-tty", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		spec, err := s.execSpec(ctx, t, true, "sh", "-c",
			`echo ready; read x; stty size; i=0; while [ $i -lt 5000 ]; do echo 0123456789abcdefghi; i=$((i+1)); done; echo end`)
		if err != nil {
			return err
		}
		out := newBuf()
		pr, pw := io.Pipe()
		defer pw.Close()
		p, err := t.Exec(ctx, "t1", spec, streams(pr, out, nil, cio.WithTerminal))
		if err != nil {
			return err
		}
		ch, _ := p.Wait(ctx)
		o.add("start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:t1")
		o.add("ready=%v", out.waitFor("ready"))
		o.add("resize: %s", s.errText(p.Resize(ctx, 100, 40)))
		pw.Write([]byte("go\r"))
		o.add("result: %s", s.result(ch))
		o.add("size seen=%v", strings.Contains(out.String(), "40 100\r\n"))
		p.IO().Wait()
		got := out.String()
		o.add("bytes=%d lines=%d end=%v", len(got), strings.Count(got, "\r\n"), strings.HasSuffix(got, "end\r\n"))
		o.add("delete: %s", s.deleted(p.Delete(ctx)))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"tty-task-resize", []string{"gc-ttytask"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-ttytask", []string{"sh", "-c", "stty size; read x; stty size"}, oci.WithTTY)
		if err != nil {
			return err
		}
		defer s.remove(c)
		pr, pw := io.Pipe()
		defer pw.Close()
		out := newBuf()
		t, err := c.NewTask(ctx, streams(pr, out, nil, cio.WithTerminal))
		if err != nil {
			return err
		}
		s.notePid(t.Pid(), "init")
		o.add("resize created: %s", s.errText(t.Resize(ctx, 50, 20)))
		ch, _ := t.Wait(ctx)
		o.add("start: %s", s.errText(t.Start(ctx)))
		o.add("first size=%v", out.waitFor("20 50"))
		o.add("resize: %s", s.errText(t.Resize(ctx, 90, 30)))
		pw.Write([]byte("go\r"))
		o.add("second size=%v", out.waitFor("30 90"))
		o.add("result: %s", s.result(ch))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"closeio", []string{"gc-cat"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-cat", []string{"cat"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		pr, pw := io.Pipe()
		out := newBuf()
		t, ch, err := s.started(ctx, c, streams(pr, out, io.Discard))
		if err != nil {
			return err
		}
		pw.Write([]byte("hello-task\n"))
		o.add("echoed=%v", out.waitFor("hello-task\n"))
		spec, err := s.execSpec(ctx, t, false, "cat")
		if err != nil {
			return err
		}
		epr, epw := io.Pipe()
		eout := newBuf()
		p, err := t.Exec(ctx, "c1", spec, streams(epr, eout, io.Discard))
		if err != nil {
			return err
		}
		pch, _ := p.Wait(ctx)
		o.add("exec start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:c1")
		epw.Write([]byte("hello-exec\n"))
		o.add("exec echoed=%v", eout.waitFor("hello-exec\n"))
		epw.Close()
		o.add("exec closeio: %s", s.errText(p.CloseIO(ctx, containerd.WithStdinCloser)))
		o.add("exec result: %s", s.result(pch))
		p.IO().Wait()
		o.add("exec out=%q", eout.String())
		o.add("exec delete: %s", s.deleted(p.Delete(ctx)))
		pw.Close()
		o.add("closeio: %s", s.errText(t.CloseIO(ctx, containerd.WithStdinCloser)))
		o.add("result: %s", s.result(ch))
		t.IO().Wait()
		o.add("out=%q", out.String())
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"update-metrics", []string{"gc-metrics"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-metrics", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		limit := int64(64 << 20)
		o.add("update: %s", s.errText(t.Update(ctx, containerd.WithResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}))))
		m, err := t.Metrics(ctx)
		o.add("metrics: %s", s.errText(err))
		if err == nil {
			o.add("id=%s type is the host's cgroup version's=%v timestamp=%s", m.ID,
				m.Data.GetTypeUrl() == hostMetricsType(), setOrZero(m.Timestamp))
			v, err := typeurl.UnmarshalAny(m.Data)
			o.add("decoded %s", s.errText(err))
			switch d := v.(type) {
			case *v1stats.Metrics:
				o.add("memory limit=%d pids>0=%v", d.Memory.Usage.Limit, d.Pids.Current > 0)
			case *v2stats.Metrics:
				o.add("memory limit=%d pids>0=%v", d.Memory.UsageLimit, d.Pids.Current > 0)
			}
		}
		r, err := s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: []string{"id==gc-metrics"}})
		if err == nil {
			o.add("service metrics n=%d", len(r.Metrics))
		} else {
			o.add("service metrics: %s", s.errText(err))
		}
		_, err = s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: []string{"id==["}})
		o.add("bad filter: %s", s.errText(err))
		o.add("kill: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		o.add("result: %s", s.result(ch))
		_, err = t.Metrics(ctx)
		o.add("metrics stopped: %s", s.errText(err))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		_, err = t.Metrics(ctx)
		o.add("metrics deleted: %s", s.errText(err))
		r, err = s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: []string{"id==gc-metrics"}})
		if err == nil {
			o.add("service metrics deleted n=%d", len(r.Metrics))
		} else {
			o.add("service metrics deleted: %s", s.errText(err))
		}
		return nil
	}},
	{"missing-binary", []string{"gc-nobin", "gc-nopath"}, func(ctx context.Context, s *suite, o *obs) error {
		for _, x := range []struct{ id, arg string }{{"gc-nobin", "/nosuch"}, {"gc-nopath", "nosuch"}} {
			c, err := s.container(ctx, x.id, []string{x.arg})
			if err != nil {
				return err
			}
			t, err := c.NewTask(ctx, cio.NullIO)
			o.add("%s new task: %s", x.arg, s.errText(err))
			if err == nil {
				s.notePid(t.Pid(), "init")
				o.add("%s start: %s", x.arg, s.errText(t.Start(ctx)))
				o.add("%s status: %s", x.arg, s.status(ctx, t))
				o.add("%s delete: %s", x.arg, s.deleted(t.Delete(ctx)))
			}
			_, err = c.Task(ctx, nil)
			o.add("%s task after: %s", x.arg, s.errText(err))
			s.remove(c)
		}
		return nil
	}},
	{"spec-info-reattach", []string{"gc-load"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.client.NewContainer(ctx, "gc-load", containerd.WithNewSnapshot("gc-load-snap", s.image),
			containerd.WithNewSpec(oci.WithImageConfig(s.image), oci.WithProcessArgs("sh", "-c", "echo a; sleep 1000")),
			containerd.WithContainerLabels(map[string]string{"l1": "v1"}),
			containerd.WithContainerExtension("ext1", &eventsapi.TaskOOM{ContainerID: "x"}))
		if err != nil {
			return err
		}
		defer s.remove(c)
		_, err = c.Task(ctx, nil)
		o.add("task before: %s", s.errText(err))
		out := newBuf()
		t, _, err := s.started(ctx, c, streams(nil, out, io.Discard))
		if err != nil {
			return err
		}
		_, err = c.NewTask(ctx, cio.NullIO)
		o.add("new task twice: %s", s.errText(err))
		spec, err := t.Spec(ctx)
		o.add("task spec: %s args=%q", s.errText(err), spec.Process.Args)
		info, err := c.Info(ctx)
		o.add("info: %s runtime=%s labels=%v", s.errText(err), info.Runtime.Name, info.Labels)
		ext, err := c.Extensions(ctx)
		keys := []string{}
		for k := range ext {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o.add("extensions: %s %v", s.errText(err), keys)
		lbl, err := c.SetLabels(ctx, map[string]string{"l2": "v2"})
		o.add("set labels: %s %v", s.errText(err), lbl)

		c2, err := s.client.LoadContainer(ctx, "gc-load")
		if err != nil {
			return err
		}
		t2, err := c2.Task(ctx, cio.Load)
		o.add("load task: %s", s.errText(err))
		if err == nil {
			o.add("same pid=%v io same=%v", t2.Pid() == t.Pid(), t2.IO().Config() == t.IO().Config())
			o.add("status: %s", s.status(ctx, t2))
		}
		t3, err := c2.Task(ctx, nil)
		o.add("task nil io: %s", s.errText(err))
		if err == nil {
			o.add("io nil=%v", t3.IO() == nil)
		}
		pspec, _ := s.execSpec(ctx, t, false, "sleep", "1000")
		p, err := t.Exec(ctx, "l1", pspec, cio.NullIO)
		if err != nil {
			return err
		}
		o.add("exec start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:l1")
		if t2 != nil {
			lp, err := t2.LoadProcess(ctx, "l1", nil)
			o.add("load process: %s", s.errText(err))
			if err == nil {
				o.add("same pid=%v status: %s", lp.Pid() == p.Pid(), s.status(ctx, lp))
			}
			_, err = t2.LoadProcess(ctx, "nosuch", nil)
			o.add("load unknown process: %s", s.errText(err))
		}
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"log-file-and-binary", []string{"gc-logfile", "gc-logbin"}, func(ctx context.Context, s *suite, o *obs) error {
		logPath := filepath.Join(s.dir, "task.log")
		binOut := filepath.Join(s.dir, "bin.out")
		logger := filepath.Join(s.dir, "logger.sh")
		// A binary logger: stdout on fd 3, stderr on fd 4; closing fd 5 says ready.
		script := fmt.Sprintf("#!/bin/sh\nexec 5>&-\ncat <&4 >%s.err &\nexec cat <&3 >%s\n", binOut, binOut)
		if err := os.WriteFile(logger, []byte(script), 0o755); err != nil {
			return err
		}
		// The log file gets stdout only: containerd's shim opens it once per
		// stream, so what two streams write there is a race.
		for _, x := range []struct {
			id, cmd string
			ioc     cio.Creator
		}{{"gc-logfile", "echo to-out", cio.LogFile(logPath)},
			{"gc-logbin", "echo to-out; echo to-err >&2", cio.BinaryIO(logger, nil)}} {
			c, err := s.container(ctx, x.id, []string{"sh", "-c", x.cmd})
			if err != nil {
				return err
			}
			t, ch, err := s.started(ctx, c, x.ioc)
			o.add("%s start: %s", x.id, s.errText(err))
			if err == nil {
				u, _ := url.Parse(t.IO().Config().Stdout)
				o.add("%s stdout scheme=%s stderr same=%v", x.id, u.Scheme, t.IO().Config().Stderr == t.IO().Config().Stdout)
				o.add("%s result: %s", x.id, s.result(ch))
				o.add("%s delete: %s", x.id, s.deleted(t.Delete(ctx)))
			}
			s.remove(c)
		}
		b, err := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		sort.Strings(lines) // stdout and stderr interleave either way
		o.add("log file=%q %s", lines, s.errText(err))
		b, err = os.ReadFile(binOut)
		o.add("binary log=%q %s", b, s.errText(err))
		b, err = os.ReadFile(binOut + ".err")
		o.add("binary log stderr=%q %s", b, s.errText(err))
		return nil
	}},
	{"checkpoint", []string{"gc-ckpt"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-ckpt", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, err := c.NewTask(ctx, cio.NullIO)
		if err != nil {
			return err
		}
		s.notePid(t.Pid(), "init")
		_, err = t.Checkpoint(ctx)
		o.add("checkpoint created: %s", s.errText(err))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"nil-stderr", []string{"gc-nilerr"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-nilerr", []string{"echo", "hi"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		_, err = c.NewTask(ctx, streams(nil, io.Discard, nil))
		o.add("new task: %s", s.errText(err))
		_, err = c.Task(ctx, nil)
		o.add("task after: %s", s.errText(err))
		// Nothing of the failed create is left (runc's container included).
		t, ch, err := s.started(ctx, c, cio.NullIO)
		o.add("new task again: %s", s.errText(err))
		if err == nil {
			o.add("result: %s", s.result(ch))
			o.add("delete: %s", s.deleted(t.Delete(ctx)))
		}
		return nil
	}},
	// An Update without resources makes runc's shim exit (it decodes a nil
	// Any): what the client sees of a task whose shim died.
	{"shim-died", []string{"gc-shimdied"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-shimdied", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		o.add("update annotations: %s", s.errText(t.Update(ctx, containerd.WithAnnotations(map[string]string{"a": "b"}))))
		o.add("result: %s", s.result(ch))
		// Once cleaned up (its /tasks/delete published) the task is gone.
		s.ev.wait("gc-shimdied", 4, time.Now().Add(30*time.Second))
		_, err = c.Task(ctx, nil)
		o.add("task after cleanup: %s", s.errText(err))
		l, err := s.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
		listed := false
		if err == nil {
			for _, p := range l.Tasks {
				listed = listed || p.ID == "gc-shimdied"
			}
		}
		o.add("listed=%v %s", listed, s.errText(err))
		o.add("delete task: %s", s.deleted(t.Delete(ctx)))
		o.add("container delete: %s", s.errText(c.Delete(ctx, containerd.WithSnapshotCleanup)))
		return nil
	}},
}

func init() {
	scenarios = append(scenarios, moreScenarios...)
}

var moreScenarios = []scenario{
	{"stopped-task-states", []string{"gc-stopped"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-stopped", []string{"sh", "-c", "exit 9"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		var waitAt time.Time
		select {
		case st := <-ch:
			o.add("exit=%d", st.ExitCode())
			waitAt = st.ExitTime()
		case <-time.After(30 * time.Second):
			o.add("wait timed out")
		}
		o.add("container delete stopped: %s", s.errText(c.Delete(ctx)))
		r, err := s.client.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: "gc-stopped"})
		if err == nil {
			p := r.Process
			o.add("get: id=%s pid=%s status=%s exit=%d at same=%v stdin=%q terminal=%v", p.ID, s.pidName(p.Pid),
				p.Status, p.ExitStatus, p.ExitedAt.Equal(waitAt), p.Stdin, p.Terminal)
		} else {
			o.add("get: %s", s.errText(err))
		}
		l, err := s.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{Filter: "id==nothing"})
		o.add("list: %s", s.errText(err))
		if err == nil {
			for _, p := range l.Tasks {
				if p.ID == "gc-stopped" {
					o.add("  listed: pid=%s status=%s exit=%d at same=%v", s.pidName(p.Pid), p.Status, p.ExitStatus,
						p.ExitedAt.Equal(waitAt))
				}
			}
		}
		st, err := t.Delete(ctx)
		if err == nil {
			o.add("delete: exit=%d at same=%v", st.ExitCode(), st.ExitTime().Equal(waitAt))
		} else {
			o.add("delete: %s", s.errText(err))
		}
		evs := s.ev.wait("gc-stopped", 4, time.Now().Add(10*time.Second))
		for _, env := range evs {
			v, _ := typeurl.UnmarshalAny(env.Event)
			switch e := v.(type) {
			case *eventsapi.TaskExit:
				o.add("exit event at same=%v", e.ExitedAt.Equal(waitAt))
			case *eventsapi.TaskDelete:
				o.add("delete event at same=%v", e.ExitedAt.Equal(waitAt))
			}
		}
		return nil
	}},
	{"created-task-ops", []string{"gc-created"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-created", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, err := c.NewTask(ctx, cio.NullIO)
		if err != nil {
			return err
		}
		s.notePid(t.Pid(), "init")
		spec, err := s.execSpec(ctx, t, false, "true")
		if err != nil {
			return err
		}
		p, err := t.Exec(ctx, "c1", spec, cio.NullIO)
		o.add("exec in created: %s", s.errText(err))
		if err == nil {
			pch, _ := p.Wait(ctx)
			o.add("exec start in created: %s", s.errText(p.Start(ctx)))
			o.add("exec result: %s", s.result(pch))
			o.add("exec delete: %s", s.deleted(p.Delete(ctx)))
		}
		o.add("update created: %s", s.errText(t.Update(ctx, containerd.WithResources(&specs.LinuxResources{}))))
		m, err := t.Metrics(ctx)
		o.add("metrics created: %s", s.errText(err))
		if err == nil {
			o.add("metrics type is the host's cgroup version's=%v", m.Data.GetTypeUrl() == hostMetricsType())
		}
		ch, _ := t.Wait(ctx)
		o.add("kill created: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		o.add("result: %s", s.result(ch))
		o.add("status: %s", s.status(ctx, t))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"paused-ops", []string{"gc-paused"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-paused", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, ch, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		o.add("pause: %s", s.errText(t.Pause(ctx)))
		ps, err := t.Pids(ctx)
		o.add("pids paused: n=%d %s", len(ps), s.errText(err))
		limit := int64(32 << 20)
		o.add("update paused: %s", s.errText(t.Update(ctx, containerd.WithResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}))))
		_, err = t.Metrics(ctx)
		o.add("metrics paused: %s", s.errText(err))
		o.add("delete paused: %s", s.deleted(t.Delete(ctx)))
		o.add("start paused: %s", s.errText(t.Start(ctx)))
		o.add("kill paused: %s", s.errText(t.Kill(ctx, syscall.SIGKILL)))
		// Racing the exit: either "container not paused" or "stopped".
		t.Resume(ctx)
		o.add("result: %s", s.result(ch))
		o.add("delete: %s", s.deleted(t.Delete(ctx)))
		return nil
	}},
	{"exec-signals-wait-cancel", []string{"gc-execsig"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-execsig", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		o.add("start running: %s", s.errText(t.Start(ctx)))
		spec, err := s.execSpec(ctx, t, false, "sleep", "1000")
		if err != nil {
			return err
		}
		p, err := t.Exec(ctx, "s1", spec, cio.NullIO)
		if err != nil {
			return err
		}
		o.add("kill created exec: %s", s.errText(p.Kill(ctx, syscall.SIGTERM)))
		ch, _ := p.Wait(ctx)
		o.add("start: %s", s.errText(p.Start(ctx)))
		s.notePid(p.Pid(), "exec:s1")
		o.add("closeio no stdin: %s", s.errText(p.CloseIO(ctx, containerd.WithStdinCloser)))
		cctx, ccancel := context.WithCancel(ctx)
		wch, err := p.Wait(cctx)
		o.add("wait: %s", s.errText(err))
		ccancel()
		o.add("canceled wait: %s", s.result(wch))
		o.add("kill TERM: %s", s.errText(p.Kill(ctx, syscall.SIGTERM)))
		o.add("result: %s", s.result(ch))
		o.add("delete: %s", s.deleted(p.Delete(ctx)))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}},
	{"api-errors", []string{"gc-apierr"}, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-apierr", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		ts := s.client.TaskService()
		id := "gc-apierr"
		_, err = ts.Create(ctx, &tasksapi.CreateTaskRequest{ContainerID: "gc-none"})
		o.add("create unknown container: %s", s.errText(err))
		_, err = ts.Create(ctx, &tasksapi.CreateTaskRequest{})
		o.add("create empty id: %s", s.errText(err))
		_, err = ts.Start(ctx, &tasksapi.StartRequest{ContainerID: id})
		o.add("start no task: %s", s.errText(err))
		_, err = ts.Delete(ctx, &tasksapi.DeleteTaskRequest{ContainerID: id})
		o.add("delete no task: %s", s.errText(err))
		_, err = ts.DeleteProcess(ctx, &tasksapi.DeleteProcessRequest{ContainerID: id, ExecID: "x"})
		o.add("delete process no task: %s", s.errText(err))
		_, err = ts.Get(ctx, &tasksapi.GetRequest{ContainerID: id})
		o.add("get no task: %s", s.errText(err))
		_, err = ts.Kill(ctx, &tasksapi.KillRequest{ContainerID: id, Signal: 9})
		o.add("kill no task: %s", s.errText(err))
		_, err = ts.Exec(ctx, &tasksapi.ExecProcessRequest{ContainerID: id, ExecID: "x"})
		o.add("exec no task: %s", s.errText(err))
		_, err = ts.ResizePty(ctx, &tasksapi.ResizePtyRequest{ContainerID: id})
		o.add("resize no task: %s", s.errText(err))
		_, err = ts.CloseIO(ctx, &tasksapi.CloseIORequest{ContainerID: id, Stdin: true})
		o.add("closeio no task: %s", s.errText(err))
		_, err = ts.Pause(ctx, &tasksapi.PauseTaskRequest{ContainerID: id})
		o.add("pause no task: %s", s.errText(err))
		_, err = ts.Resume(ctx, &tasksapi.ResumeTaskRequest{ContainerID: id})
		o.add("resume no task: %s", s.errText(err))
		_, err = ts.ListPids(ctx, &tasksapi.ListPidsRequest{ContainerID: id})
		o.add("pids no task: %s", s.errText(err))
		_, err = ts.Checkpoint(ctx, &tasksapi.CheckpointTaskRequest{ContainerID: id})
		o.add("checkpoint no task: %s", s.errText(err))
		_, err = ts.Update(ctx, &tasksapi.UpdateTaskRequest{ContainerID: id})
		o.add("update no task: %s", s.errText(err))
		_, err = ts.Wait(ctx, &tasksapi.WaitRequest{ContainerID: id})
		o.add("wait no task: %s", s.errText(err))
		_, err = ts.Metrics(ctx, &tasksapi.MetricsRequest{Filters: []string{"id==" + id}})
		o.add("metrics no task: %s", s.errText(err))

		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		_, err = ts.CloseIO(ctx, &tasksapi.CloseIORequest{ContainerID: id, ExecID: "nosuch", Stdin: true})
		o.add("closeio unknown exec: %s", s.errText(err))
		_, err = ts.ResizePty(ctx, &tasksapi.ResizePtyRequest{ContainerID: id, ExecID: "nosuch", Width: 1, Height: 1})
		o.add("resize unknown exec: %s", s.errText(err))
		_, err = ts.Start(ctx, &tasksapi.StartRequest{ContainerID: id, ExecID: "nosuch"})
		o.add("start unknown exec: %s", s.errText(err))
		_, err = ts.Kill(ctx, &tasksapi.KillRequest{ContainerID: id, ExecID: "nosuch", Signal: 9})
		o.add("kill unknown exec: %s", s.errText(err))
		_, err = ts.Pause(ctx, &tasksapi.PauseTaskRequest{ContainerID: id})
		o.add("pause: %s", s.errText(err))
		_, err = ts.Pause(ctx, &tasksapi.PauseTaskRequest{ContainerID: id})
		o.add("pause again: %s", s.errText(err))
		_, err = ts.Resume(ctx, &tasksapi.ResumeTaskRequest{ContainerID: id})
		o.add("resume: %s", s.errText(err))
		o.add("status: %s", s.status(ctx, t))
		// The shim sends /tasks/resumed from a goroutine of its own: the
		// crash below could beat it (seen under load, on either daemon).
		s.ev.wait(id, 4, time.Now().Add(30*time.Second))
		// Last: runc's shim exits on an Exec without a spec.
		_, err = ts.Exec(ctx, &tasksapi.ExecProcessRequest{ContainerID: id, ExecID: "nospec"})
		o.add("exec without spec: %s", s.errText(err))
		// Its cleanup is complete at /tasks/delete (shim-died checks the
		// task is gone then; containerd removes it just after publishing).
		s.ev.wait(id, 6, time.Now().Add(30*time.Second))
		return nil
	}},
}
