// Nothing to compile: CLibFuzzer only declares LLVMFuzzerRunDriver, which -sanitize=fuzzer links in.
#include "CLibFuzzer.h"
