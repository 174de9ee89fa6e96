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

# gRPC, abseil and protobuf come as ~55 shared objects; loading and relocating
# them is most of a cold exec on a small VM. Their Debian packages also ship
# static archives, so link those: the daemon starts faster and needs fewer
# pages. Only imported targets that have a .a beside their .so change.
option(MCD_STATIC_GRPC "Link gRPC, abseil, protobuf, RocksDB statically" ON)
if(MCD_STATIC_GRPC)
  get_directory_property(_mcd_imported IMPORTED_TARGETS)
  foreach(_t IN LISTS _mcd_imported)
    if(NOT _t MATCHES "^(gRPC|absl|protobuf|RocksDB|c-ares|re2)::")
      continue()
    endif()
    get_target_property(_type ${_t} TYPE)
    if(NOT _type STREQUAL "SHARED_LIBRARY" AND NOT _type STREQUAL "UNKNOWN_LIBRARY")
      continue()
    endif()
    foreach(_p IMPORTED_LOCATION IMPORTED_LOCATION_NONE IMPORTED_LOCATION_RELEASE
               IMPORTED_LOCATION_RELWITHDEBINFO IMPORTED_LOCATION_NOCONFIG)
      get_target_property(_loc ${_t} ${_p})
      if(_loc AND _loc MATCHES "\\.so")
        string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" _a "${_loc}")
        if(EXISTS "${_a}")
          set_target_properties(${_t} PROPERTIES ${_p} "${_a}")
          set_property(TARGET ${_t} PROPERTY IMPORTED_NO_SONAME TRUE)
        endif()
      endif()
    endforeach()
  endforeach()
endif()
