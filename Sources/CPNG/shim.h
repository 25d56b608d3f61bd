#ifndef PERCEIVERD_CPNG_SHIM_H
#define PERCEIVERD_CPNG_SHIM_H
#include <png.h>
#endif
