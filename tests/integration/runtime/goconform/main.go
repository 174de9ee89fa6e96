// goconform drives a daemon with the containerd Go client (Debian's
// containerd 1.6.20 sources) through task and process scenarios and compares
// what the client sees (return values, error classes and texts, states, exit
// codes, events) with what containerd 1.6.20 itself showed for the same
// scenarios (expected.go). One line per scenario; exit status 1 on any
// difference.
//
//	goconform [-record] [-run regexp] [-fifo-dir dir] <socket> <namespace> <image>
//
// -record prints the observations as Go source for expected.go (used once,
// against the real containerd, to write down its behaviour). -fifo-dir is
// where the IO FIFOs of tasks and execs with streams go (cio's default: the
// host's /run/containerd/fifo).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd"
	eventsapi "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/events"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/typeurl"
)

// obs collects one scenario's observations, each a line of text.
type obs struct{ lines []string }

func (o *obs) add(format string, a ...interface{}) {
	o.lines = append(o.lines, fmt.Sprintf(format, a...))
}

// errText is an error as the client sees it: class and message, or "ok".
func (s *suite) errText(err error) string {
	if err == nil {
		return "ok"
	}
	return errClass(err) + " " + s.normalize(err.Error())
}

func errClass(err error) string {
	switch {
	case errdefs.IsNotFound(err):
		return "NotFound"
	case errdefs.IsAlreadyExists(err):
		return "AlreadyExists"
	case errdefs.IsFailedPrecondition(err):
		return "FailedPrecondition"
	case errdefs.IsInvalidArgument(err):
		return "InvalidArgument"
	case errdefs.IsNotImplemented(err):
		return "NotImplemented"
	case errdefs.IsUnavailable(err):
		return "Unavailable"
	case errdefs.IsCanceled(err):
		return "Canceled"
	case errdefs.IsDeadlineExceeded(err):
		return "DeadlineExceeded"
	}
	return "Other"
}

// The daemon's own paths and the namespace differ between runs.
var (
	tmpPath  = regexp.MustCompile(`/(tmp|run|var)/[^\s:"']*`)
	procPath = regexp.MustCompile(`/proc/[0-9]+`)
)

func (s *suite) normalize(m string) string {
	m = strings.ReplaceAll(m, s.ns, "<ns>")
	m = procPath.ReplaceAllString(m, "/proc/<pid>")
	return tmpPath.ReplaceAllStringFunc(m, func(p string) string {
		if i := strings.LastIndex(p, "/"); i >= 0 {
			return "<path>" + p[i:]
		}
		return "<path>"
	})
}

// received keeps the task events of the namespace by container id.
type received struct {
	mu  sync.Mutex
	cv  *sync.Cond
	evs map[string][]*events.Envelope
	err error
}

func containerOf(ev interface{}) string {
	switch e := ev.(type) {
	case *eventsapi.TaskCreate:
		return e.ContainerID
	case *eventsapi.TaskStart:
		return e.ContainerID
	case *eventsapi.TaskExit:
		return e.ContainerID
	case *eventsapi.TaskDelete:
		return e.ContainerID
	case *eventsapi.TaskExecAdded:
		return e.ContainerID
	case *eventsapi.TaskExecStarted:
		return e.ContainerID
	case *eventsapi.TaskPaused:
		return e.ContainerID
	case *eventsapi.TaskResumed:
		return e.ContainerID
	case *eventsapi.TaskOOM:
		return e.ContainerID
	case *eventsapi.TaskCheckpointed:
		return e.ContainerID
	case *eventsapi.TaskIO:
		return ""
	}
	return ""
}

func (r *received) run(ch <-chan *events.Envelope, errs <-chan error) {
	for {
		select {
		case env := <-ch:
			ev, err := typeurl.UnmarshalAny(env.Event)
			cid := "?"
			if err == nil {
				cid = containerOf(ev)
			}
			r.mu.Lock()
			r.evs[cid] = append(r.evs[cid], env)
			r.cv.Broadcast()
			r.mu.Unlock()
		case err := <-errs:
			r.mu.Lock()
			r.err = err
			r.cv.Broadcast()
			r.mu.Unlock()
			return
		}
	}
}

// wait returns the events of container cid once there are at least n, or
// what there is at the deadline.
func (r *received) wait(cid string, n int, deadline time.Time) []*events.Envelope {
	t := time.AfterFunc(time.Until(deadline), func() {
		r.mu.Lock()
		r.cv.Broadcast()
		r.mu.Unlock()
	})
	defer t.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.evs[cid]) < n && r.err == nil && time.Now().Before(deadline) {
		r.cv.Wait()
	}
	return append([]*events.Envelope(nil), r.evs[cid]...)
}

type suite struct {
	client  *containerd.Client
	ns      string
	ref     string
	image   containerd.Image
	dir     string // scratch files (logs, binary loggers)
	ev      *received
	mu      sync.Mutex
	pids    map[string]string // "<pid>" -> name used in event lines
	results map[string][]string
}

// notePid names a pid for the event lines (pids differ between runs).
func (s *suite) notePid(pid uint32, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids[fmt.Sprint(pid)] = name
}

func (s *suite) pidName(pid uint32) string {
	if pid == 0 {
		return "0"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.pids[fmt.Sprint(pid)]; ok {
		return n
	}
	return "other"
}

func setOrZero(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "zero"
	}
	return "set"
}

func (s *suite) eventLine(env *events.Envelope) string {
	ev, err := typeurl.UnmarshalAny(env.Event)
	if err != nil {
		return env.Topic + " undecodable " + err.Error()
	}
	l := env.Topic
	if env.Namespace != s.ns {
		l += " ns=" + env.Namespace
	}
	switch e := ev.(type) {
	case *eventsapi.TaskCreate:
		bundle := strings.HasSuffix(e.Bundle, "/io.containerd.runtime.v2.task/"+s.ns+"/"+e.ContainerID)
		l += fmt.Sprintf(" pid=%s bundle=%v rootfs=%d stdin=%v stdout=%v stderr=%v terminal=%v checkpoint=%q",
			s.pidName(e.Pid), bundle, len(e.Rootfs), e.IO.Stdin != "", e.IO.Stdout != "", e.IO.Stderr != "",
			e.IO.Terminal, e.Checkpoint)
	case *eventsapi.TaskStart:
		l += " pid=" + s.pidName(e.Pid)
	case *eventsapi.TaskExit:
		l += fmt.Sprintf(" id=%s pid=%s status=%d at=%s", e.ID, s.pidName(e.Pid), e.ExitStatus,
			setOrZero(e.ExitedAt))
	case *eventsapi.TaskDelete:
		l += fmt.Sprintf(" id=%s pid=%s status=%d at=%s", e.ID, s.pidName(e.Pid), e.ExitStatus,
			setOrZero(e.ExitedAt))
	case *eventsapi.TaskExecAdded:
		l += " exec=" + e.ExecID
	case *eventsapi.TaskExecStarted:
		l += fmt.Sprintf(" exec=%s pid=%s", e.ExecID, s.pidName(e.Pid))
	case *eventsapi.TaskCheckpointed:
		l += fmt.Sprintf(" checkpoint=%q", e.Checkpoint)
	}
	return l
}

type scenario struct {
	name string
	// Containers whose task events belong to this scenario.
	ids []string
	run func(ctx context.Context, s *suite, o *obs) error
}

// Scenarios whose outcome depends on the machine (what criu can do there):
// they run only when -run names them.
var optional = map[string]bool{"checkpoint-restore": true}

func main() {
	record := flag.Bool("record", false, "print observations as Go source for expected.go")
	only := flag.String("run", "", "run only scenarios matching this regexp")
	flag.StringVar(&fifoDir, "fifo-dir", "", "directory for the IO FIFOs")
	flag.Parse()
	if flag.NArg() != 3 {
		fmt.Fprintln(os.Stderr, "usage: goconform [-record] [-run re] [-fifo-dir dir] <socket> <namespace> <image>")
		os.Exit(2)
	}
	s := &suite{ns: flag.Arg(1), ref: flag.Arg(2), pids: map[string]string{}, results: map[string][]string{}}
	client, err := containerd.New(flag.Arg(0), containerd.WithTimeout(10*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(2)
	}
	defer client.Close()
	s.client = client
	ctx, cancel := context.WithCancel(namespaces.WithNamespace(context.Background(), s.ns))
	defer cancel()
	if s.image, err = client.GetImage(ctx, s.ref); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(2)
	}
	if s.dir, err = os.MkdirTemp("", "goconform"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer os.RemoveAll(s.dir)
	if err := os.Chmod(s.dir, 0o711); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(s.dir)
		os.Exit(2)
	}

	s.ev = &received{evs: map[string][]*events.Envelope{}}
	s.ev.cv = sync.NewCond(&s.ev.mu)
	evCh, errCh := client.Subscribe(ctx, fmt.Sprintf(`namespace==%s,topic~="^/tasks/"`, s.ns))
	go s.ev.run(evCh, errCh)

	var re *regexp.Regexp
	if *only != "" {
		re = regexp.MustCompile(*only)
	}
	var ran []scenario
	for _, sc := range scenarios {
		if re != nil && !re.MatchString(sc.name) {
			continue
		}
		if optional[sc.name] && re == nil {
			continue
		}
		o := &obs{}
		sctx, scancel := context.WithTimeout(ctx, 90*time.Second)
		if err := sc.run(sctx, s, o); err != nil {
			o.add("fatal: %s", s.errText(err))
		}
		scancel()
		s.results[sc.name] = o.lines
		ran = append(ran, sc)
	}

	// Events are compared once every scenario ran: they come asynchronously.
	deadline := time.Now().Add(15 * time.Second)
	for _, sc := range ran {
		for _, id := range sc.ids {
			key := sc.name + " events " + id
			n := len(expected[key])
			if *record {
				n = 1 << 30
				deadline = time.Now().Add(3 * time.Second)
			}
			var lines []string
			for _, env := range s.ev.wait(id, n, deadline) {
				lines = append(lines, s.eventLine(env))
			}
			s.results[key] = lines
		}
	}

	if *record {
		keys := make([]string, 0, len(s.results))
		for k := range s.results {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Printf("\t%q: {\n", k)
			for _, l := range s.results[k] {
				fmt.Printf("\t\t%q,\n", l)
			}
			fmt.Printf("\t},\n")
		}
		return
	}

	failed := 0
	for _, sc := range ran {
		keys := []string{sc.name}
		for _, id := range sc.ids {
			keys = append(keys, sc.name+" events "+id)
		}
		var diffs []string
		for _, k := range keys {
			want, ok := expected[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("  %s: no expectation recorded", k))
				continue
			}
			diffs = append(diffs, diff(k, want, s.results[k])...)
		}
		if len(diffs) == 0 {
			fmt.Printf("PASS %s\n", sc.name)
			continue
		}
		failed++
		fmt.Printf("FAIL %s\n%s\n", sc.name, strings.Join(diffs, "\n"))
	}
	if failed > 0 {
		fmt.Printf("%d of %d scenarios differ from containerd 1.6.20\n", failed, len(ran))
		os.RemoveAll(s.dir) // os.Exit skips the deferred removal
		os.Exit(1)
	}
	fmt.Printf("all %d scenarios match containerd 1.6.20\n", len(ran))
}

func diff(key string, want, got []string) []string {
	var out []string
	for i := 0; i < len(want) || i < len(got); i++ {
		w, g := "<none>", "<none>"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			out = append(out, fmt.Sprintf("  %s [%d]\n    containerd: %s\n    got:        %s", key, i, w, g))
		}
	}
	return out
}
