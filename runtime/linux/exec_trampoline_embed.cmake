# cmake -DIN=<trampoline binary> -DOUT=<.cpp> -P exec_trampoline_embed.cmake
# Writes the trampoline's bytes as a C++ array (exec_trampoline.hpp declares it).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}.tmp"
  "// Generated from runtime/linux/exec_trampoline.c; do not edit.\n"
  "#include \"runtime/linux/exec_trampoline.hpp\"\n"
  "namespace hippo::os {\n"
  "const unsigned char kExecTrampoline[] = {${bytes}};\n"
  "const unsigned long kExecTrampolineSize = ${size};\n"
  "}  // namespace hippo::os\n")
file(RENAME "${OUT}.tmp" "${OUT}")
