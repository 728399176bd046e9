// libFuzzer's entry for programs with their own main (https://llvm.org/docs/LibFuzzer.html,
// "Using libFuzzer as a library"). The fuzz targets need it because SwiftPM links a debug
// executable's entry point as <Target>_main, which a libFuzzer main would never be.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
