#include "image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

// libjpeg's error manager extended with the jump target and the result that receives the message.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    image_codecs_result *result;
} jpeg_failure;

static void jpeg_fail(j_common_ptr cinfo) {
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(failure->result->message, sizeof failure->result->message, "%s", text);
    longjmp(failure->jump, 1);
}

// Warnings (e.g. extraneous bytes before a marker) are tolerated, as PIL tolerates them; nothing is printed.
static void jpeg_quiet(j_common_ptr cinfo, int level) {
    (void)cinfo;
    (void)level;
}

// Called by libjpeg as decoding goes on: refuses a progressive file with more than IMAGE_CODECS_MAX_SCANS scans.
static void jpeg_progress(j_common_ptr cinfo) {
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > IMAGE_CODECS_MAX_SCANS) {
        jpeg_failure *failure = (jpeg_failure *)cinfo->err;
        snprintf(failure->result->message, sizeof failure->result->message,
                 "progressive JPEG with more than %d scans", IMAGE_CODECS_MAX_SCANS);
        longjmp(failure->jump, 1);
    }
}

static void source_init(j_decompress_ptr cinfo) { (void)cinfo; }
static void source_term(j_decompress_ptr cinfo) { (void)cinfo; }

// The whole buffer is handed over at once, so asking for more means the data ended early. jpeg_mem_src would
// insert a fake EOI and fill the rest grey; PIL refuses a truncated file, and so do we.
static boolean source_fill(j_decompress_ptr cinfo) {
    cinfo->err->msg_code = JERR_INPUT_EOF;
    (*cinfo->err->error_exit)((j_common_ptr)cinfo);
    return FALSE;
}

static void source_skip(j_decompress_ptr cinfo, long count) {
    struct jpeg_source_mgr *source = cinfo->src;
    if (count <= 0) return;
    if ((size_t)count > source->bytes_in_buffer) {
        source_fill(cinfo);
        return;
    }
    source->next_input_byte += count;
    source->bytes_in_buffer -= (size_t)count;
}

void image_codecs_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, image_codecs_result *result) {
    memset(result, 0, sizeof *result);
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_progress};
    struct jpeg_source_mgr source = {
        .next_input_byte = data, .bytes_in_buffer = size, .init_source = source_init,
        .fill_input_buffer = source_fill, .skip_input_data = source_skip,
        .resync_to_restart = jpeg_resync_to_restart, .term_source = source_term,
    };
    cinfo.err = jpeg_std_error(&failure.base);
    failure.base.error_exit = jpeg_fail;
    failure.base.emit_message = jpeg_quiet;
    failure.result = result;
    // Set before setjmp and only read after a longjmp: volatile so the compiler keeps it in memory.
    uint8_t *volatile pixels = NULL;
    if (setjmp(failure.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&cinfo);
        if (result->status == IMAGE_CODECS_OK) result->status = IMAGE_CODECS_CORRUPT;
        return;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.src = &source;
    cinfo.progress = &progress;
    jpeg_read_header(&cinfo, TRUE);
    if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels
        || cinfo.image_width > IMAGE_CODECS_MAX_SIDE || cinfo.image_height > IMAGE_CODECS_MAX_SIDE) {
        result->status = IMAGE_CODECS_TOO_LARGE;
        result->width = cinfo.image_width;
        result->height = cinfo.image_height;
        ERREXIT(&cinfo, JERR_IMAGE_TOO_BIG);
    }
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: case JCS_YCbCr: case JCS_RGB:
        cinfo.out_color_space = JCS_RGB;
        break;
    default:
        result->status = IMAGE_CODECS_UNSUPPORTED;
        snprintf(result->message, sizeof result->message, "JPEG colour space %s is not decoded (only greyscale, "
                 "YCbCr and RGB)", cinfo.jpeg_color_space == JCS_CMYK ? "CMYK"
                 : cinfo.jpeg_color_space == JCS_YCCK ? "YCCK" : "unknown");
        jpeg_destroy_decompress(&cinfo);
        return;
    }
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 3;
    pixels = malloc(stride * cinfo.output_height);
    if (!pixels) {
        result->status = IMAGE_CODECS_NO_MEMORY;
        ERREXIT(&cinfo, JERR_OUT_OF_MEMORY);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    result->width = cinfo.output_width;
    result->height = cinfo.output_height;
    // Finishing reads the rest of the file to EOI; an image whose last marker is missing is still whole.
    jpeg_abort_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    result->pixels = pixels;
}
