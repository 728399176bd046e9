// What Swift cannot reach by itself: the CPU's floating-point mode and the spin-wait hint.
#ifndef NNTRAIN_CFLOATINGPOINT_H
#define NNTRAIN_CFLOATINGPOINT_H

/// Sets flush-to-zero and denormals-are-zero (x86-64 MXCSR bits 15 and 6) for the calling thread
/// and returns the previous mode, for `nntrain_restore_floating_point_mode`. Elsewhere a no-op.
unsigned int nntrain_flush_subnormals(void);

/// Puts back a mode returned by `nntrain_flush_subnormals` or `nntrain_floating_point_mode`.
void nntrain_restore_floating_point_mode(unsigned int mode);

/// The calling thread's floating-point mode (x86-64 MXCSR; 0 elsewhere), so that a thread that
/// computes part of another thread's work can compute it in the same mode.
unsigned int nntrain_floating_point_mode(void);

/// Tells the CPU the thread is in a spin-wait loop (x86 PAUSE: saves power and lets the other
/// hyperthread run). Elsewhere nothing.
static inline void nntrain_spin_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

#endif
