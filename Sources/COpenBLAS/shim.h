// The CBLAS interface of OpenBLAS (Debian: libopenblas-dev), with OpenBLAS's own calls that
// report the kernel in use (openblas_get_corename) and set the thread count.
// Only Sources/NNTrain/Tensor/BLAS.swift imports this module.
#include <cblas.h>
