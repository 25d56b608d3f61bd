#ifndef PERCEIVERD_IMAGE_CODECS_H
#define PERCEIVERD_IMAGE_CODECS_H
// PNG and JPEG decoding to 8-bit interleaved RGB. libpng and libjpeg report fatal errors by longjmp, which must
// never cross a Swift frame, so the setjmp and every library call live here in C and failures come back as codes.
#include <stddef.h>
#include <stdint.h>

/// The longest side decoded, whatever the pixel cap: libpng's row buffers, the resampler's weights and the
/// crop grow with a side, so a 67,108,864 x 1 image under an area cap alone would still take gigabytes.
#define IMAGE_CODECS_MAX_SIDE 16384u

/// Most scans a progressive JPEG may have: a crafted file with very many scans makes libjpeg work for minutes
/// (libjpeg-turbo's advice; djpeg -maxscans). Real progressive files have about 10.
#define IMAGE_CODECS_MAX_SCANS 500

/// Why a decode failed.
typedef enum {
    IMAGE_CODECS_OK = 0,
    /// The data is not a valid (or is a truncated) PNG/JPEG; `message` says what the library found.
    IMAGE_CODECS_CORRUPT = 1,
    /// The header declares more pixels than `max_pixels`, or a side longer than IMAGE_CODECS_MAX_SIDE (nothing was
    /// allocated for them).
    IMAGE_CODECS_TOO_LARGE = 2,
    /// A valid image in a form not decoded here (e.g. CMYK JPEG); `message` names it.
    IMAGE_CODECS_UNSUPPORTED = 3,
    /// malloc failed.
    IMAGE_CODECS_NO_MEMORY = 4,
} image_codecs_status;

/// The outcome of one decode. On success `pixels` holds height rows of width * 3 bytes (R, G, B) and must be
/// released with `image_codecs_free`; on failure it is NULL and `message` names the problem.
typedef struct {
    image_codecs_status status;
    uint32_t width;
    uint32_t height;
    uint8_t *pixels;
    char message[200];
} image_codecs_result;

/// Decodes a PNG: palette, greyscale and low bit depths expanded, 16-bit samples cut to their high byte,
/// alpha dropped (PIL's `convert("RGB")`), no gamma correction.
void image_codecs_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, image_codecs_result *result);

/// Decodes a baseline or progressive JPEG (YCbCr, RGB or greyscale) with libjpeg's default (islow) IDCT and fancy
/// upsampling, as PIL does. Running out of data is an error, not a grey fill.
void image_codecs_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, image_codecs_result *result);

/// Releases the pixels of a successful decode.
void image_codecs_free(uint8_t *pixels);

#endif
