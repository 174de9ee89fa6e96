# Project warnings: everything we write builds with -Werror.
# -Wrestrict: GCC 12 false positives in std::string (GCC bug 105329).
set(MCD_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter -Wno-restrict)

# mcd_module(NAME [DEPS ...])
# A static library from every .cc in the calling folder (not recursing into
# folders that have their own CMakeLists.txt). Plugins register themselves
# from these sources; the daemon links every module with WHOLE_ARCHIVE so the
# registrars survive, tests link only what they use.
function(mcd_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;EXCLUDE" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  foreach(ex ${ARG_EXCLUDE})
    list(FILTER srcs EXCLUDE REGEX "${ex}")
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${MCD_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  set_property(GLOBAL APPEND PROPERTY MCD_MODULES ${name})
endfunction()

# mcd_unit_test(NAME SOURCES... DEPS ...): a GoogleTest binary under ctest.
function(mcd_unit_test name)
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${MCD_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS ${ARG_LABEL} DISCOVERY_TIMEOUT 60)
endfunction()

# Link every module into a binary so that all plugin registrars are kept: one
# --whole-archive group holds each module once; the plain links after it only
# bring usage requirements and system libraries.
function(mcd_link_all_modules target)
  get_property(mods GLOBAL PROPERTY MCD_MODULES)
  set(files)
  foreach(m ${mods})
    list(APPEND files $<TARGET_FILE:${m}>)
  endforeach()
  target_link_libraries(${target} PRIVATE -Wl,--whole-archive ${files} -Wl,--no-whole-archive ${mods})
  add_dependencies(${target} ${mods})
endfunction()
