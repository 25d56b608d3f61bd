#ifndef PERCEIVERD_CZLIB_SHIM_H
#define PERCEIVERD_CZLIB_SHIM_H
#include <zlib.h>
#endif
