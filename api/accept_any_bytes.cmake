# protoc's C++ code fails a whole message when a proto3 string holds invalid
# UTF-8; gogo's code, which containerd and its Go clients and shims use,
# takes any bytes. So a request with such an id or name reached containerd's
# service (and got its "invalid identifier" or "not found") but failed here
# as an unparsable message. The parse-time checks are taken out of the
# generated code (serializing still only logs). Usage:
#   cmake -DFILES=<x.pb.cc>|<x.pb.h> -P accept_any_bytes.cmake
string(REPLACE "|" ";" FILES "${FILES}")
foreach(f ${FILES})
  if(NOT f MATCHES "\\.pb\\.(cc|h)$" OR f MATCHES "\\.grpc\\.pb\\.")
    continue()
  endif()
  file(READ "${f}" text)
  string(REGEX REPLACE "CHK_\\(::_pbi::VerifyUTF8\\(str, \"[^\"]*\"\\)\\);"
         "static_cast<void>(str);" text "${text}")
  string(REGEX REPLACE
         "return ::PROTOBUF_NAMESPACE_ID::internal::WireFormatLite::VerifyUtf8String\\(s->data\\(\\), static_cast<int>\\(s->size\\(\\)\\), ::PROTOBUF_NAMESPACE_ID::internal::WireFormatLite::PARSE, \"[^\"]*\"\\);"
         "return s != nullptr;" text "${text}")
  file(WRITE "${f}" "${text}")
endforeach()
