#ifndef PERCEIVERD_COPENSSL_SHIM_H
#define PERCEIVERD_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

/* SSL_OP_* are built with the function-like macro SSL_OP_BIT(n), which Swift does not import.
   These constants take their values from the real macros. */
static const uint64_t PERCEIVERD_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t PERCEIVERD_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t PERCEIVERD_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
#endif
