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
find_package(ZLIB REQUIRED)
find_package(LibArchive REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark CONFIG REQUIRED)

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_program(PROTOC protoc REQUIRED)

set(MCD_CONTAINERD_SRC /usr/share/gocode/src/github.com/containerd/containerd
    CACHE PATH "containerd source tree from golang-github-containerd-containerd-dev")
set(MCD_CGROUPS_SRC /usr/share/gocode/src/github.com/containerd/cgroups
    CACHE PATH "containerd/cgroups source tree from golang-github-containerd-cgroups-dev")
set(MCD_GOGO_GOOGLEAPIS /usr/share/gocode/src/github.com/gogo/googleapis
    CACHE PATH "gogo googleapis from golang-github-gogo-googleapis-dev")

# RE2 (libre2-dev, a gRPC dependency): Go's regexp syntax for filters.
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# libbtrfsutil (libbtrfsutil-dev): subvolumes for the btrfs snapshotter.
pkg_check_modules(BTRFSUTIL REQUIRED IMPORTED_TARGET libbtrfsutil)

# Every shared object the daemon maps costs each exec its loading and
# relocation, and on a small VM each page fault is dear: gRPC, abseil and
# protobuf alone are ~55 objects, and libarchive drags in libxml2 and ICU,
# OpenSSL relocates 24k symbols. Their Debian packages also ship static
# archives, so link those: the daemon starts in about half the time and needs
# fewer pages. Only imported targets that have a .a beside their .so change;
# spdlog, fmt and toml++ ship no archive and stay shared.
option(MCD_STATIC_DEPS "Link gRPC, protobuf, RocksDB, OpenSSL, libarchive and the compression libraries statically" ON)
if(MCD_STATIC_DEPS)
  # A shared library path -> its static archive beside it ("" when none).
  function(mcd_static_of so out)
    set(_a "")
    if(so MATCHES "\\.so(\\.[0-9.]+)?$")
      string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" _a "${so}")
      if(NOT EXISTS "${_a}")
        set(_a "")
      endif()
    endif()
    set(${out} "${_a}" PARENT_SCOPE)
  endfunction()

  get_directory_property(_mcd_imported IMPORTED_TARGETS)
  list(APPEND _mcd_imported PkgConfig::RE2 PkgConfig::BTRFSUTIL)
  foreach(_t IN LISTS _mcd_imported)
    if(NOT _t MATCHES "^(gRPC|absl|protobuf|RocksDB|c-ares|re2|OpenSSL|LibArchive|ZLIB|Snappy|lz4|zstd|PkgConfig)::")
      continue()
    endif()
    get_target_property(_type ${_t} TYPE)
    if(_type STREQUAL "SHARED_LIBRARY" OR _type STREQUAL "UNKNOWN_LIBRARY")
      foreach(_p IMPORTED_LOCATION IMPORTED_LOCATION_NONE IMPORTED_LOCATION_RELEASE
                 IMPORTED_LOCATION_RELWITHDEBINFO IMPORTED_LOCATION_NOCONFIG)
        get_target_property(_loc ${_t} ${_p})
        if(_loc)
          mcd_static_of("${_loc}" _a)
          if(_a)
            set_target_properties(${_t} PROPERTIES ${_p} "${_a}")
            set_property(TARGET ${_t} PROPERTY IMPORTED_NO_SONAME TRUE)
          endif()
        endif()
      endforeach()
    endif()
    # Plain .so paths among a target's own dependencies (RocksDB's bzip2,
    # pkg-config's re2).
    get_target_property(_deps ${_t} INTERFACE_LINK_LIBRARIES)
    if(_deps)
      set(_new "")
      foreach(_d IN LISTS _deps)
        mcd_static_of("${_d}" _a)
        if(_a)
          list(APPEND _new "${_a}")
        else()
          list(APPEND _new "${_d}")
        endif()
      endforeach()
      set_target_properties(${_t} PROPERTIES INTERFACE_LINK_LIBRARIES "${_new}")
    endif()
  endforeach()

  # What a static libarchive needs (pkg-config --static --libs libarchive,
  # libxml-2.0): its format table references every format, xar's libxml2
  # among them.
  set(_mcd_archive_deps "")
  foreach(_l nettle xml2 icuuc icudata lzma zstd lz4 bz2 z)
    find_library(_mcd_${_l}_a NAMES lib${_l}.a REQUIRED)
    list(APPEND _mcd_archive_deps "${_mcd_${_l}_a}")
  endforeach()
  set_property(TARGET LibArchive::LibArchive APPEND PROPERTY INTERFACE_LINK_LIBRARIES
               ${_mcd_archive_deps} Threads::Threads ${CMAKE_DL_LIBS} m stdc++)
  set_property(TARGET OpenSSL::Crypto APPEND PROPERTY INTERFACE_LINK_LIBRARIES
               Threads::Threads ${CMAKE_DL_LIBS})
endif()
