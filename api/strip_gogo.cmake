# protoc's C++ generator rejects `import weak` and knows nothing of gogoproto's
# options: copy a .proto with those removed. Usage:
#   cmake -DIN=<src.proto> -DOUT=<dst.proto> -P strip_gogo.cmake
file(READ "${IN}" text)
string(REGEX REPLACE "import weak \"[^\"]*\";\n" "" text "${text}")
# containerd/cgroups imports gogo.proto plainly.
string(REGEX REPLACE "import \"gogoproto/gogo.proto\";\n" "" text "${text}")
# File and message level options: option (gogoproto.x) = ...; option (containerd.plugin.x) = ...;
string(REGEX REPLACE "[ \t]*option \\((gogoproto|containerd\\.plugin)\\.[a-z_]+\\) = [^;]*;\n" "" text "${text}")
# Field options made only of gogoproto entries: [(gogoproto.a) = x, (gogoproto.b) = y]
string(REGEX REPLACE " *\\[\\(gogoproto\\.[^]]*\\]" "" text "${text}")
# C++20 made `requires` a keyword and protobuf 3.21 does not escape it: the
# field is renamed in the build copy (the wire uses only its number).
string(REGEX REPLACE "string requires = " "string requires_list = " text "${text}")
file(WRITE "${OUT}" "${text}")
