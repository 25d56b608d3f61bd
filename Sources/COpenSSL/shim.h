#ifndef PERCEIVERD_COPENSSL_SHIM_H
#define PERCEIVERD_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#endif
