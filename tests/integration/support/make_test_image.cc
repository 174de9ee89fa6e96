// make-test-image OUT.tar [--name NAME] [--compression gzip|zstd|none]
//                 [--random-layer BYTES]...
// Writes the project's busybox test image as an OCI layout tarball for shell
// scripts and benchmarks. --random-layer adds an uncompressed layer holding
// one file of incompressible bytes (import benchmarks).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>

#include "tests/integration/support/image_builder.h"

using namespace mcd::itest::image;

int main(int argc, char** argv) {
  CLI::App app{"Builds the minicontainerd busybox test image (OCI layout tar)"};
  std::string out;
  std::string name = "docker.io/library/busybox:latest";
  std::string compression = "gzip";
  std::vector<int64_t> random_layers;
  app.add_option("OUT", out, "output tar path")->required();
  app.add_option("--name", name, "image name (io.containerd.image.name)");
  app.add_option("--compression", compression, "busybox layer compression")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
  app.add_option("--random-layer", random_layers, "add an uncompressed layer of N random bytes");
  CLI11_PARSE(app, argc, argv);
  try {
    Compression c = compression == "gzip"   ? Compression::kGzip
                    : compression == "zstd" ? Compression::kZstd
                                            : Compression::kNone;
    ImageSpec spec;
    spec.name = name;
    spec.layers.push_back(BusyboxLayer(c));
    std::mt19937_64 rng(42);
    int n = 0;
    for (int64_t size : random_layers) {
      std::string data(static_cast<size_t>(size), '\0');
      for (size_t i = 0; i + 8 <= data.size(); i += 8) {
        uint64_t v = rng();
        std::memcpy(&data[i], &v, 8);
      }
      Layer l;
      l.compression = Compression::kNone;
      l.entries.push_back(File("random" + std::to_string(n++) + ".bin", std::move(data)));
      spec.layers.push_back(std::move(l));
    }
    auto img = Build(spec);
    WriteOciArchive({img}, out);
    std::cout << img.manifest.digest << "\n";
  } catch (const std::exception& e) {
    std::cerr << "make-test-image: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
