#ifndef PERCEIVERD_CDNNL_SHIM_H
#define PERCEIVERD_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
// mallopt, for the engine's heap policy (HeapPolicy.swift): not part of Swift's Glibc module.
#include <malloc.h>

// oneDNN on Debian is built with the OpenMP runtime (DNNL_CPU_RUNTIME_OMP, libgomp).
// omp.h is not on clang's include path here, so declare the two calls we use.
// omp_set_num_threads sets the calling thread's team size for later parallel regions.
extern void omp_set_num_threads(int num_threads);
extern int omp_get_max_threads(void);
#endif
