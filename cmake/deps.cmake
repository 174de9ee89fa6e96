# Every dependency comes from a Debian package; see README "Dependencies".
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(OpenSSL REQUIRED)
find_package(LibArchive REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark CONFIG REQUIRED)

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_program(PROTOC protoc REQUIRED)

set(MCD_CONTAINERD_SRC /usr/share/gocode/src/github.com/containerd/containerd
    CACHE PATH "containerd source tree from golang-github-containerd-containerd-dev")
set(MCD_GOGO_GOOGLEAPIS /usr/share/gocode/src/github.com/gogo/googleapis
    CACHE PATH "gogo googleapis from golang-github-gogo-googleapis-dev")

# RE2 (libre2-dev, a gRPC dependency): Go's regexp syntax for filters.
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
