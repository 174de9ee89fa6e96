package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/oci"
)

func init() {
	scenarios = append(scenarios, daemonScenarios...)
}

// Scenarios about what the daemon itself decides (runtimes, rootfs,
// concurrent creates, filters) rather than what the shim answers.
var daemonScenarios = []scenario{
	{"runtime-resolution", nil, func(ctx context.Context, s *suite, o *obs) error {
		for _, x := range []struct{ id, runtime string }{
			{"gc-rtnosuch", "io.containerd.nosuch.v1"},
			{"gc-rtbad", "nosuch"},
			{"gc-rtabs", "/nonexistent/containerd-shim-x-v2"},
		} {
			c, err := s.client.NewContainer(ctx, x.id, containerd.WithNewSnapshot(x.id+"-snap", s.image),
				containerd.WithRuntime(x.runtime, nil),
				containerd.WithNewSpec(oci.WithImageConfig(s.image), oci.WithProcessArgs("true")))
			if err != nil {
				o.add("%s container: %s", x.runtime, s.errText(err))
				continue
			}
			_, err = c.NewTask(ctx, cio.NullIO)
			o.add("%s new task: %s", x.runtime, s.errText(err))
			s.remove(c)
		}
		c, err := s.container(ctx, "gc-rtpath", []string{"true"})
		if err != nil {
			return err
		}
		_, err = c.NewTask(ctx, cio.NullIO, containerd.WithRuntimePath("/nonexistent/shim"))
		o.add("runtime path missing: %s", s.errText(err))
		s.remove(c)
		return nil
	}},
	{"concurrent-new-task", nil, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-conc", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		var wg sync.WaitGroup
		results := make([]string, 3)
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := c.NewTask(ctx, cio.NullIO)
				results[i] = s.errText(err)
			}(i)
		}
		wg.Wait()
		sort.Strings(results)
		for _, r := range results {
			o.add("new task: %s", r)
		}
		return nil
	}},
	{"metrics-filters", nil, func(ctx context.Context, s *suite, o *obs) error {
		var cs []containerd.Container
		defer func() {
			for _, c := range cs {
				s.remove(c)
			}
		}()
		for _, id := range []string{"gc-ma", "gc-mb"} {
			c, err := s.container(ctx, id, []string{"sleep", "1000"})
			if err != nil {
				return err
			}
			cs = append(cs, c)
			if _, _, err := s.started(ctx, c, cio.NullIO); err != nil {
				return err
			}
		}
		for _, f := range [][]string{{"id==gc-ma"}, {"id==gc-ma", "id==gc-mb"}, {"id==gc-ma,id==gc-mb"},
			{"id~=^gc-m[ab]$"}, {"labels.x==y"}, {"id!=gc-ma"}} {
			r, err := s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: f})
			if err != nil {
				o.add("%q: %s", f, s.errText(err))
				continue
			}
			var ids []string
			for _, m := range r.Metrics {
				if m.ID == "gc-ma" || m.ID == "gc-mb" {
					ids = append(ids, m.ID)
				}
			}
			sort.Strings(ids)
			o.add("%q: %v", f, ids)
		}
		r, err := s.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{Filter: "id==gc-ma"})
		if err == nil {
			var ids []string
			for _, p := range r.Tasks {
				if p.ID == "gc-ma" || p.ID == "gc-mb" {
					ids = append(ids, p.ID)
				}
			}
			sort.Strings(ids)
			o.add("list filtered: %v", ids)
		}
		return nil
	}},
}

// shimPids are the pids of the shim serving container id in namespace ns.
func shimPids(ns, id string) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || !strings.Contains(args[0], "containerd-shim") {
			continue
		}
		hasNs, hasID := false, false
		for i := 0; i+1 < len(args); i++ {
			hasNs = hasNs || (args[i] == "-namespace" && args[i+1] == ns)
			hasID = hasID || (args[i] == "-id" && args[i+1] == id)
		}
		if hasNs && hasID {
			out = append(out, pid)
		}
	}
	return out
}

// allThreadsStopped waits (up to 10 s) until every thread of pid is in the
// stopped state: kill(2) returns before a busy machine has stopped them all,
// and nothing notifies a process that is not the parent.
func allThreadsStopped(pid int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			return false
		}
		stopped := true
		for _, t := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
			// The state follows the parenthesised command name.
			if i := strings.LastIndexByte(string(b), ')'); err != nil || i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
				stopped = false
				break
			}
		}
		if stopped {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func init() {
	scenarios = append(scenarios, scenario{"hung-shim", nil, func(ctx context.Context, s *suite, o *obs) error {
		c, err := s.container(ctx, "gc-hung", []string{"sleep", "1000"})
		if err != nil {
			return err
		}
		defer s.remove(c)
		t, _, err := s.started(ctx, c, cio.NullIO)
		if err != nil {
			return err
		}
		pids := shimPids(s.ns, "gc-hung")
		o.add("shims=%d", len(pids))
		if len(pids) != 1 {
			return nil
		}
		// A stopped shim answers nothing: state calls time out.
		if err := syscall.Kill(pids[0], syscall.SIGSTOP); err != nil {
			return err
		}
		defer syscall.Kill(pids[0], syscall.SIGCONT)
		o.add("stopped=%v", allThreadsStopped(pids[0]))
		r, err := s.client.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: "gc-hung"})
		if err == nil {
			o.add("get: id=%s pid=%d status=%s", r.Process.ID, r.Process.Pid, r.Process.Status)
		} else {
			o.add("get: %s", s.errText(err))
		}
		l, err := s.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
		if err == nil {
			for _, p := range l.Tasks {
				if p.ID == "gc-hung" {
					o.add("listed: pid=%d status=%s", p.Pid, p.Status)
				}
			}
		}
		o.add("status: %s", s.status(ctx, t))
		syscall.Kill(pids[0], syscall.SIGCONT)
		o.add("status after: %s", s.status(ctx, t))
		o.add("delete kill: %s", s.deleted(t.Delete(ctx, containerd.WithProcessKill)))
		return nil
	}})
}
