#include "CFloatingPoint.h"
#if defined(__x86_64__)
#include <xmmintrin.h>
int nntrain_flush_subnormals(void) {
    _mm_setcsr(_mm_getcsr() | 0x8040);
    return 1;
}
#else
int nntrain_flush_subnormals(void) { return 0; }
#endif
