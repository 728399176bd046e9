// Control of the CPU's floating-point mode that Swift cannot reach by itself.
#ifndef NNTRAIN_CFLOATINGPOINT_H
#define NNTRAIN_CFLOATINGPOINT_H

/// Sets flush-to-zero and denormals-are-zero (MXCSR bits 15 and 6) for the calling thread on x86-64;
/// does nothing elsewhere. Returns 1 when the mode was set.
int nntrain_flush_subnormals(void);

#endif
