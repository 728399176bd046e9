// Control of the CPU's floating-point mode, which Swift cannot reach by itself.
#ifndef NNTRAIN_CFLOATINGPOINT_H
#define NNTRAIN_CFLOATINGPOINT_H

/// Sets flush-to-zero and denormals-are-zero (x86-64 MXCSR bits 15 and 6) for the calling thread
/// and returns the previous mode, for `nntrain_restore_floating_point_mode`. Elsewhere a no-op.
unsigned int nntrain_flush_subnormals(void);

/// Puts back a mode returned by `nntrain_flush_subnormals`.
void nntrain_restore_floating_point_mode(unsigned int mode);

#endif
