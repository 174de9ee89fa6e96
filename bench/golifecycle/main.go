// Command golifecycle times whole container lifecycles through the containerd
// Go client, in one process: what `ctr run --rm IMAGE ID true` asks of the
// daemon (container with a new snapshot, task, wait, start, exit, task
// delete, container delete with its snapshot), without ctr's own process
// start-up. One line a lifecycle: its wall time in milliseconds.
//
// Usage: golifecycle SOCKET NAMESPACE IMAGE COUNT
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
)

func lifecycle(ctx context.Context, client *containerd.Client, image containerd.Image, id string) (err error) {
	container, err := client.NewContainer(ctx, id,
		containerd.WithImage(image),
		containerd.WithNewSnapshot(id, image),
		containerd.WithNewSpec(oci.WithImageConfig(image), oci.WithProcessArgs("true")))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil { // leave nothing behind on a failure
			container.Delete(ctx, containerd.WithSnapshotCleanup)
		}
	}()
	task, err := container.NewTask(ctx, cio.NullIO)
	if err != nil {
		return err
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		task.Delete(ctx)
		return err
	}
	if err := task.Start(ctx); err != nil {
		task.Delete(ctx)
		return err
	}
	status := <-exited
	if _, err := task.Delete(ctx); err != nil {
		return err
	}
	if code, _, err := status.Result(); err != nil || code != 0 {
		return fmt.Errorf("task %s: exit %d, %v", id, code, err)
	}
	return container.Delete(ctx, containerd.WithSnapshotCleanup)
}

func run() error {
	if len(os.Args) != 5 {
		return fmt.Errorf("usage: %s SOCKET NAMESPACE IMAGE COUNT", os.Args[0])
	}
	count, err := strconv.Atoi(os.Args[4])
	if err != nil {
		return err
	}
	client, err := containerd.New(os.Args[1])
	if err != nil {
		return err
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), os.Args[2])
	image, err := client.GetImage(ctx, os.Args[3])
	if err != nil {
		return err
	}
	for i := 0; i < count; i++ {
		start := time.Now()
		if err := lifecycle(ctx, client, image, fmt.Sprintf("golc-%d-%d", os.Getpid(), i)); err != nil {
			return err
		}
		fmt.Println(time.Since(start).Milliseconds())
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "golifecycle:", err)
		os.Exit(1)
	}
}
