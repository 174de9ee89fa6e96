// goconform drives a daemon with the containerd Go client (Debian's
// containerd 1.6.20 sources) through the metadata APIs and compares what it
// sees with what containerd 1.6.20 answered (golden.txt, recorded against
// the real containerd with -record). One line per scenario; exit 1 on any
// difference.
//
//	goconform -socket <sock> -image <oci tarball> [-record] [-only name]
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd"
	eventsapi "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/events"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/typeurl"
	"google.golang.org/grpc/status"
)

//go:embed golden.txt
var golden string

// obs collects what one scenario saw, one normalised line per fact.
type obs struct{ lines []string }

func (o *obs) f(format string, a ...interface{}) {
	o.lines = append(o.lines, facts.names.Replace(fmt.Sprintf(format, a...)))
}

// e records the outcome of a call: ok, or the error's class and text.
func (o *obs) e(what string, err error) {
	if err == nil {
		o.f("%s: ok", what)
		return
	}
	o.f("%s: %s %q", what, class(err), normPath(lockedRe.ReplaceAllString(err.Error(), "locked for <d> (since <t>)")))
}

func class(err error) string {
	switch {
	case errdefs.IsNotFound(err):
		return "NotFound"
	case errdefs.IsAlreadyExists(err):
		return "AlreadyExists"
	case errdefs.IsInvalidArgument(err):
		return "InvalidArgument"
	case errdefs.IsFailedPrecondition(err):
		return "FailedPrecondition"
	case errdefs.IsUnavailable(err):
		return "Unavailable"
	case errdefs.IsNotImplemented(err):
		return "NotImplemented"
	}
	if s, ok := status.FromError(err); ok {
		return "grpc:" + s.Code().String()
	}
	return "other"
}

// ts says whether a timestamp is set, not its value.
func ts(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return "set"
}

// order compares two timestamps: how created/updated move.
func order(a, b time.Time) string {
	switch {
	case a.Equal(b):
		return "=="
	case a.Before(b):
		return "<"
	}
	return ">"
}

func labels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, m[k])
	}
	return "{" + b.String() + "}"
}

func js(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "json error: " + err.Error()
	}
	return string(b)
}

// A lock's age and start time change from run to run.
var lockedRe = regexp.MustCompile(`locked for [^(]* \(since [^)]*\)`)

// Paths differ between daemons' roots: keep their shape only.
var pathRe = regexp.MustCompile(`/[^,:= ]*/snapshots/[0-9]+`)

// Random parts: unpack's extraction keys, bolt's internal snapshot ids.
var extractRe = regexp.MustCompile(`extract-[0-9]+-[A-Za-z0-9_-]{4} `)
var internalIDRe = regexp.MustCompile(`"(conform-[a-z-]+)/[0-9]+/`)

// Temporary mounts: under the daemon root's tmpmounts, as containerd's.
var tmpMountRe = regexp.MustCompile(`/[^ "]*/tmpmounts/containerd-mount[0-9A-Za-z]+`)

func normPath(s string) string {
	s = tmpMountRe.ReplaceAllString(s, "<tmpmount>")
	s = pathRe.ReplaceAllString(s, "<snap>")
	s = extractRe.ReplaceAllString(s, "extract-<r> ")
	return internalIDRe.ReplaceAllString(s, `"$1/<n>/`)
}

type env struct {
	client *containerd.Client
	image  string // path of the test image tarball
}

type scenario struct {
	name string
	run  func(ctx context.Context, e *env, o *obs) error
}

var scenarios []scenario

func register(name string, run func(ctx context.Context, e *env, o *obs) error) {
	scenarios = append(scenarios, scenario{name, run})
}

// A scenario runs in its own namespace; the events published there between
// a start and an end marker (published through the events service, so
// ordered with everything else) are part of what it saw.
func runOne(e *env, s scenario) ([]string, error) {
	ns := "conform-" + s.name
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), 2*time.Minute)
	defer cancel()
	subCtx, subCancel := context.WithCancel(ctx)
	defer subCancel()
	evCh, errCh := e.client.Subscribe(subCtx, fmt.Sprintf(`namespace==%q`, ns))
	mark := func(what string) error {
		return e.client.EventService().Publish(ctx, "/conform/"+what, &eventsapi.NamespaceUpdate{Name: what})
	}
	var seen []string
	wait := func(what string) error {
		for {
			select {
			case env := <-evCh:
				if env.Topic == "/conform/"+what {
					return nil
				}
				if !strings.HasPrefix(env.Topic, "/conform/") {
					seen = append(seen, describe(env))
				}
			case err := <-errCh:
				return fmt.Errorf("events: %w", err)
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s marker: %w", what, ctx.Err())
			}
		}
	}
	// The subscription is set up asynchronously: repeat the start marker
	// until it comes back.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	if err := mark("start"); err != nil {
		return nil, err
	}
started:
	for {
		select {
		case env := <-evCh:
			if env.Topic == "/conform/start" {
				break started
			}
		case err := <-errCh:
			return nil, fmt.Errorf("events: %w", err)
		case <-tick.C:
			if err := mark("start"); err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for start marker: %w", ctx.Err())
		}
	}
	// Later copies of the start marker are not part of the scenario.
	if err := mark("start-done"); err != nil {
		return nil, err
	}
	if err := wait("start-done"); err != nil {
		return nil, err
	}
	seen = nil
	o := &obs{}
	runErr := s.run(ctx, e, o)
	if err := mark("end"); err != nil {
		return nil, err
	}
	if err := wait("end"); err != nil {
		return nil, err
	}
	lines := append(o.lines, seen...)
	if runErr != nil {
		lines = append(lines, "aborted: "+runErr.Error())
	}
	return lines, nil
}

func describe(env *events.Envelope) string {
	ev, err := typeurl.UnmarshalAny(env.Event)
	body := ""
	if err != nil {
		body = "undecodable " + env.Event.TypeUrl
	} else {
		body = normPath(js(ev))
	}
	return facts.names.Replace(fmt.Sprintf("event %s %s ts=%s %s", env.Topic, env.Event.TypeUrl, ts(env.Timestamp), body))
}

func parseGolden() map[string][]string {
	out := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(golden, "\n") {
		if strings.HasPrefix(l, "== ") {
			cur = strings.TrimPrefix(l, "== ")
			out[cur] = []string{}
		} else if cur != "" && l != "" {
			out[cur] = append(out[cur], l)
		}
	}
	return out
}

func main() {
	sock := flag.String("socket", "", "daemon socket")
	image := flag.String("image", "", "test image tarball (docker.io/library/busybox:latest)")
	record := flag.Bool("record", false, "print observations as golden.txt instead of comparing")
	only := flag.String("only", "", "run only this scenario")
	flag.Parse()
	if *sock == "" || *image == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := loadImageFacts(*image); err != nil {
		fmt.Fprintln(os.Stderr, "test image:", err)
		os.Exit(2)
	}
	client, err := containerd.New(*sock, containerd.WithTimeout(10*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(2)
	}
	defer client.Close()
	e := &env{client: client, image: *image}
	want := parseGolden()
	failed := 0
	for _, s := range scenarios {
		if *only != "" && !strings.Contains(","+*only+",", ","+s.name+",") {
			continue
		}
		got, err := runOne(e, s)
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", s.name, err)
			failed++
			continue
		}
		if *record {
			fmt.Printf("== %s\n%s\n", s.name, strings.Join(got, "\n"))
			continue
		}
		if diff := compare(want[s.name], got); diff != "" {
			fmt.Printf("FAIL %s\n%s", s.name, diff)
			failed++
		} else {
			fmt.Printf("PASS %s\n", s.name)
		}
	}
	if failed > 0 {
		fmt.Printf("%d scenario(s) differ from containerd 1.6.20\n", failed)
		os.Exit(1)
	}
}

// compare lists the lines that differ, position by position.
func compare(want, got []string) string {
	var b strings.Builder
	n := len(want)
	if len(got) > n {
		n = len(got)
	}
	for i := 0; i < n; i++ {
		w, g := "<none>", "<none>"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			fmt.Fprintf(&b, "  line %d\n    containerd: %s\n    got:        %s\n", i+1, w, g)
		}
	}
	return b.String()
}
