#include "image_codecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The read cursor and the error text; libpng hands it back through png_get_io_ptr / png_get_error_ptr.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    image_codecs_result *result;
} png_source;

static void png_fail(png_structp png, png_const_charp message) {
    png_source *source = png_get_error_ptr(png);
    snprintf(source->result->message, sizeof source->result->message, "%s", message);
    png_longjmp(png, 1);
}

static void png_ignore_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void png_read_memory(png_structp png, png_bytep out, size_t length) {
    png_source *source = png_get_io_ptr(png);
    if (length > source->size - source->offset) {
        png_error(png, "truncated PNG data");
    }
    memcpy(out, source->data + source->offset, length);
    source->offset += length;
}

void image_codecs_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, image_codecs_result *result) {
    memset(result, 0, sizeof *result);
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        result->status = IMAGE_CODECS_CORRUPT;
        snprintf(result->message, sizeof result->message, "not a PNG signature");
        return;
    }
    png_source source = {data, size, 0, result};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_fail, png_ignore_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        result->status = IMAGE_CODECS_NO_MEMORY;
        return;
    }
    // Set before setjmp and only read after a longjmp: volatile so the compiler keeps them in memory.
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        if (result->status == IMAGE_CODECS_OK) result->status = IMAGE_CODECS_CORRUPT;
        return;
    }
    png_set_read_fn(png, &source, png_read_memory);
    // libpng's own cap is 1,000,000 x 1,000,000; ours (the pixel count and the side) is checked below, before
    // any allocation that depends on the size.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((uint64_t)width * height > max_pixels || width > IMAGE_CODECS_MAX_SIDE || height > IMAGE_CODECS_MAX_SIDE) {
        result->status = IMAGE_CODECS_TOO_LARGE;
        result->width = width;
        result->height = height;
        png_error(png, "too many pixels");
    }
    // PIL keeps the high byte of 16-bit samples (its "RGB;16B" unpackers), not a rounded scale.
    png_set_strip_16(png);
    png_set_packing(png);
    png_set_palette_to_rgb(png);
    png_set_expand_gray_1_2_4_to_8(png);
    png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 3) {
        result->status = IMAGE_CODECS_UNSUPPORTED;
        png_error(png, "PNG pixel layout does not reduce to 8-bit RGB");
    }
    pixels = malloc((size_t)width * height * 3);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) {
        result->status = IMAGE_CODECS_NO_MEMORY;
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * width * 3;
    png_read_image(png, rows);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    result->width = width;
    result->height = height;
    result->pixels = pixels;
}

void image_codecs_free(uint8_t *pixels) {
    free(pixels);
}
