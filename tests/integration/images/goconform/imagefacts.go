package main

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The test image is built from the machine's busybox: its digests and sizes
// are named, not spelled, so the golden file holds on any busybox build.
type imageFacts struct {
	names     *strings.Replacer
	blobTotal int64 // manifest + config + layers: the image's Size
}

var facts = imageFacts{names: strings.NewReplacer()}

func loadImageFacts(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || (h.Name != "index.json" && h.Size > 1<<20) {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		files[h.Name] = b
	}
	blob := func(d fmt.Stringer) []byte { return files["blobs/sha256/"+strings.TrimPrefix(d.String(), "sha256:")] }
	var index ocispec.Index
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		return fmt.Errorf("index.json: want one manifest (%v)", err)
	}
	md := index.Manifests[0]
	var m ocispec.Manifest
	if err := json.Unmarshal(blob(md.Digest), &m); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(blob(m.Config.Digest), &cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	pairs := []string{md.Digest.String(), "<manifest>", m.Config.Digest.String(), "<config>"}
	total := md.Size + m.Config.Size
	for i, l := range m.Layers {
		pairs = append(pairs, l.Digest.String(), fmt.Sprintf("<layer%d>", i))
		total += l.Size
	}
	for i, d := range cfg.RootFS.DiffIDs {
		pairs = append(pairs, d.String(), fmt.Sprintf("<diffid%d>", i))
	}
	facts = imageFacts{names: strings.NewReplacer(pairs...), blobTotal: total}
	return nil
}
