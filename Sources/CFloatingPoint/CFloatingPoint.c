#include "CFloatingPoint.h"
#if defined(__x86_64__)
#include <xmmintrin.h>

unsigned int nntrain_flush_subnormals(void) {
    unsigned int previous = _mm_getcsr();
    _mm_setcsr(previous | 0x8040);
    return previous;
}

void nntrain_restore_floating_point_mode(unsigned int mode) { _mm_setcsr(mode); }

unsigned int nntrain_floating_point_mode(void) { return _mm_getcsr(); }
#else
unsigned int nntrain_flush_subnormals(void) { return 0; }
void nntrain_restore_floating_point_mode(unsigned int mode) { (void)mode; }
unsigned int nntrain_floating_point_mode(void) { return 0; }
#endif
