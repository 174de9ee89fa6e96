// A containerd Go client (Debian's containerd 1.6.20 sources) that runs a
// task with its stdout captured, waits for the exit status and follows the
// task's events. Prints what it saw for the integration test to check.
//
// Given a v1 state dir and a shim cgroup it runs on runtime v1
// (io.containerd.runtime.v1.linux) instead, first checking that RuncOptions
// naming a runc that does not exist fail NewTask with the shim's error
// (containerd's TestContainerRuntimeOptionsv1) and that WithShimCgroup puts
// the shim in the cgroup given. One program for both runtimes: the task run
// and the event follow are the same.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/containerd"
	eventsapi "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/events"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/runtime/linux/runctypes"
	"github.com/containerd/typeurl"
)

const v1Runtime = "io.containerd.runtime.v1.linux"

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(2)
}

func main() {
	// The task's stdout FIFOs go there (cio's default: the host's
	// /run/containerd/fifo).
	fifoDir := flag.String("fifo-dir", "", "directory for the task's IO FIFOs")
	flag.Parse()
	args := flag.Args()
	if len(args) != 3 && len(args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: goclient [-fifo-dir dir] <socket> <image> <id> [<v1 state dir> <shim cgroup>]")
		os.Exit(2)
	}
	sock, ref, id := args[0], args[1], args[2]
	v1 := len(args) == 5
	client, err := containerd.New(sock, containerd.WithTimeout(10*time.Second))
	if err != nil {
		fail("connect", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), "default"), 60*time.Second)
	defer cancel()

	var evCh <-chan *events.Envelope
	var errCh <-chan error
	if !v1 {
		evCh, errCh = client.Subscribe(ctx, `topic~="^/tasks/"`)
	}
	image, err := client.GetImage(ctx, ref)
	if err != nil {
		fail("get image", err)
	}
	opts := []containerd.NewContainerOpts{
		containerd.WithNewSnapshot(id+"-snapshot", image),
		containerd.WithNewSpec(oci.WithImageConfig(image), oci.WithProcessArgs("sh", "-c", "echo from-go; exit 3")),
	}
	if v1 {
		v1Checks(ctx, client, image, id, args[3], args[4])
		evCh, errCh = client.Subscribe(ctx, `topic~="^/tasks/"`)
		opts = append(opts, containerd.WithRuntime(v1Runtime, nil))
	}
	container, err := client.NewContainer(ctx, id, opts...)
	if err != nil {
		fail("new container", err)
	}
	defer container.Delete(ctx, containerd.WithSnapshotCleanup)

	var stdout bytes.Buffer
	ioOpts := []cio.Opt{cio.WithStreams(nil, &stdout, os.Stderr)}
	if *fifoDir != "" {
		ioOpts = append(ioOpts, cio.WithFIFODir(*fifoDir))
	}
	task, err := container.NewTask(ctx, cio.NewCreator(ioOpts...))
	if err != nil {
		fail("new task", err)
	}
	statusC, err := task.Wait(ctx)
	if err != nil {
		fail("wait", err)
	}
	if err := task.Start(ctx); err != nil {
		fail("start", err)
	}
	code, _, err := (<-statusC).Result()
	if err != nil {
		fail("result", err)
	}
	if _, err := task.Delete(ctx); err != nil {
		fail("delete", err)
	}
	fmt.Printf("stdout=%q\nexit=%d\n", stdout.String(), code)

	for {
		select {
		case env := <-evCh:
			ev, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				fail("decode event", err)
			}
			cid := ""
			switch e := ev.(type) {
			case *eventsapi.TaskCreate:
				cid = e.ContainerID
			case *eventsapi.TaskStart:
				cid = e.ContainerID
			case *eventsapi.TaskExit:
				cid = e.ContainerID
			case *eventsapi.TaskDelete:
				cid = e.ContainerID
			}
			if cid != id {
				continue
			}
			fmt.Printf("event %s\n", env.Topic)
			if env.Topic == "/tasks/delete" {
				return
			}
		case err := <-errCh:
			fail("events", err)
		}
	}
}

// The runtime v1 checks before the task run: RuncOptions naming a missing
// runc, and WithShimCgroup.
func v1Checks(ctx context.Context, client *containerd.Client, image containerd.Image, id, state, shimCgroup string) {
	// RuncOptions with a runtime binary that does not exist.
	bad, err := client.NewContainer(ctx, id+"-norunc",
		containerd.WithNewSnapshot(id+"-norunc-snapshot", image),
		containerd.WithNewSpec(oci.WithImageConfig(image), oci.WithProcessArgs("true")),
		containerd.WithRuntime(v1Runtime, &runctypes.RuncOptions{Runtime: "no-runc"}))
	if err != nil {
		fail("new container", err)
	}
	if task, err := bad.NewTask(ctx, cio.NullIO); err == nil {
		task.Delete(ctx)
		fmt.Println("norunc-error=<none>")
	} else {
		fmt.Printf("norunc-error=%s\n", err)
	}
	if err := bad.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
		fail("delete container", err)
	}

	// WithShimCgroup: the shim itself goes into that v1 cgroup.
	cgc, err := client.NewContainer(ctx, id+"-cg",
		containerd.WithNewSnapshot(id+"-cg-snapshot", image),
		containerd.WithNewSpec(oci.WithImageConfig(image), oci.WithProcessArgs("sleep", "1000")),
		containerd.WithRuntime(v1Runtime, nil))
	if err != nil {
		fail("new container", err)
	}
	cgt, err := cgc.NewTask(ctx, cio.NullIO, containerd.WithShimCgroup(shimCgroup))
	if err != nil {
		fail("new task with shim cgroup", err)
	}
	pid, err := os.ReadFile(filepath.Join(state, "default", id+"-cg", "shim.pid"))
	if err != nil {
		fail("shim pid", err)
	}
	cgroups, err := os.ReadFile("/proc/" + string(pid) + "/cgroup")
	if err != nil {
		fail("shim cgroups", err)
	}
	for _, l := range strings.Split(string(cgroups), "\n") {
		if strings.HasSuffix(l, ":memory:"+shimCgroup) {
			fmt.Printf("shim-cgroup=%s\n", l)
		}
	}
	if _, err := cgt.Delete(ctx, containerd.WithProcessKill); err != nil {
		fail("delete task", err)
	}
	if err := cgc.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
		fail("delete container", err)
	}
}
