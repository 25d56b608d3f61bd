#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Tests/FuzzingTests/Corpus/<target>/ (issue 7).

Standard library only; deterministic (gzip members carry mtime 0), so rerunning it changes nothing. Each seed
is named after what it exercises. Seeds found by fuzzing are not written here: crash reproducers go to
Tests/FuzzingTests/Regressions/<target>/ by hand.

    python3 tools/make_fuzz_seeds.py
"""
import gzip
import io
import json
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Tests" / "FuzzingTests" / "Corpus"
FIXTURES = ROOT / "Tests" / "PerceiverEngineTests" / "Fixtures"


def write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


# httpParser: whole connections' worth of bytes. The target's limits: request line 256, header section 1024
# bytes and 16 fields, body 4096.

V2_JSON = b'{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,5,6]}]}'


def with_length(head: bytes, body: bytes) -> bytes:
    """`head` (request line and fields) completed with a Content-Length for `body`, then `body`."""
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def http_seeds() -> None:
    s = {
        "get_simple": b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "get_query_headers": b"GET /v2/models/mlm?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n"
                             b"Accept-Encoding: gzip;q=1.0, identity;q=0.5\r\nConnection: keep-alive\r\n\r\n",
        "http10_keep_alive": b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "absolute_and_asterisk_form": b"GET http://example.com/x HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n",
        "post_content_length_json": with_length(b"POST /v2/models/mlm/infer HTTP/1.1\r\nHost: h\r\n"
                                                b"Content-Type: application/json\r\n", V2_JSON),
        "post_chunked_extensions_trailers": b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                            b"5;name=value\r\nhello\r\n6 ; a ; b = \"q \\\" ;x\"\r\n world\r\n0;last\r\n"
                                            b"X-Trailer: t\r\nX-Other: u\r\n\r\n",
        "pipelined_three": b"POST /1 HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"
                           b"POST /2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nefg\r\n0\r\n\r\n"
                           b"GET /3 HTTP/1.1\r\n\r\n",
        "leading_empty_lines": b"\r\n\r\nGET /a HTTP/1.1\r\n\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
        "expect_continue": b"PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n12345",
        "repeated_content_length": b"PUT /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 003\r\n\r\nabc",
        "obs_text_value": b"GET / HTTP/1.1\r\nX-Name: caf\xc3\xa9 \xff\r\nX-Empty:\r\nX-A: \t v a l \t \r\n\r\n",
        "gzip_body": with_length(b"POST /infer HTTP/1.1\r\nContent-Encoding: gzip\r\n",
                                 gzip.compress(V2_JSON, mtime=0)),
        "v2_binary_body": b"POST /v2/models/mlm/infer HTTP/1.1\r\nInference-Header-Content-Length: 4\r\n"
                          b"Content-Length: 12\r\n\r\n{}  \x01\x00\x00\x00\x02\x00\x00\x00",
        "body_at_limit": b"POST / HTTP/1.1\r\nContent-Length: 4096\r\n\r\n" + b"b" * 4096,
        "body_over_limit": b"POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n",
        "headers_at_count_limit": b"GET / HTTP/1.1\r\n" + b"".join(b"H%d: %d\r\n" % (i, i) for i in range(16)) + b"\r\n",
        "request_line_at_limit": b"GET /" + b"a" * 241 + b" HTTP/1.1\r\n\r\n",
        # Request smuggling forms: each must be refused, whatever the split.
        "smuggle_cl_te": b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
        "smuggle_te_cl": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n",
        "smuggle_two_content_lengths": b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        "smuggle_te_gzip_chunked": b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "smuggle_te_chunked_twice": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "smuggle_te_http10": b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "smuggle_te_obs_fold": b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
        "smuggle_te_space_before_colon": b"POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "smuggle_te_xchunked": b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        "smuggle_bare_lf": b"GET / HTTP/1.1\nHost: x\n\nGET /admin HTTP/1.1\r\n\r\n",
        "smuggle_bare_cr": b"GET / HTTP/1.1\r\nX-A: a\rTransfer-Encoding: chunked\r\n\r\n",
        "smuggle_cl_plus": b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nabcde",
        "smuggle_cl_huge": b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "smuggle_chunk_size_overflow": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
        "bad_version": b"GET / HTTP/1.2\r\n\r\nGET / HTTP/2.0\r\n\r\n",
        "interpreted_fields": b"POST /v2/models/m/infer?x=1 HTTP/1.0\r\nConnection: Keep-Alive, Upgrade\r\n"
                              b"Accept-Encoding: identity;q=0.9, GZIP;q=0.5, *;q=0\r\nContent-Encoding: X-Gzip\r\n"
                              b"Inference-Header-Content-Length: +12\r\nExpect: 100-Continue\r\n\r\n",
        "nul_in_value": b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n",
    }
    for name, data in s.items():
        write("httpParser", name, data)


# chunked: the bytes after a fixed `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n`.

def chunked_seeds() -> None:
    s = {
        "one_chunk": b"5\r\nhello\r\n0\r\n\r\n",
        "empty_body": b"0\r\n\r\n",
        "hex_both_cases": b"A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n",
        "extensions": b"5;name=value\r\nhello\r\n6 ; a ; b = \"q \\\" ;x\"\r\n world\r\n0;last\r\n\r\n",
        "extension_quoted_escapes": b"3;a=\"\\\\\\\"\\;\"\r\nabc\r\n0;b=\"\"\r\n\r\n",
        "trailers": b"3\r\nabc\r\n0\r\nX-Trailer: t\r\nX-Other: \tu v \r\n\r\n",
        "pipelined_after": b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "leading_zeros": b"0005\r\nhello\r\n0000\r\n\r\n",
        "sixteen_digits": b"0000000000000005\r\nhello\r\n0\r\n\r\n",
        "seventeen_digits": b"00000000000000005\r\nhello\r\n0\r\n\r\n",
        "body_at_limit": b"800\r\n" + b"a" * 2048 + b"\r\n800\r\n" + b"b" * 2048 + b"\r\n0\r\n\r\n",
        "body_over_limit": b"800\r\n" + b"a" * 2048 + b"\r\n801\r\n",
        "size_max": b"ffffffffffffffff\r\n",
        "data_longer_than_size": b"5\r\nhelloXX\r\n0\r\n\r\n",
        "data_shorter_than_size": b"7\r\nhello\r\n0\r\n\r\n",
        "bare_lf": b"5\nhello\n0\n\n",
        "bare_cr_in_extension": b"5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n",
        "unterminated_quote": b"5;a=\"b\r\nhello\r\n0\r\n\r\n",
        "whitespace_forms": b"5\t;a = b ;c\r\nhello\r\n0 ;d\r\n\r\n",
        "trailing_whitespace": b"5 \r\nhello\r\n0\r\n\r\n",
        "negative_size": b"-1\r\n\r\n",
        "hex_prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
        "incomplete_data": b"5\r\nhel",
        "incomplete_trailer": b"0\r\nX-T: 1\r\n",
        "trailer_obs_fold": b"0\r\nX-T: a\r\n b\r\n\r\n",
        "trailer_too_many": b"0\r\n" + b"".join(b"T%d: %d\r\n" % (i, i) for i in range(17)) + b"\r\n",
        "trailer_space_before_colon": b"0\r\nX-T : 1\r\n\r\n",
        "long_size_line": b"5;a=" + b"b" * 4100 + b"\r\nhello\r\n0\r\n\r\n",
    }
    for name, data in s.items():
        write("chunked", name, data)


# v2Request: byte 0 = framing (bits 0-1: 0 JSON, 1 raw binary, 2 header length in bytes 1-2) | spec set << 2
# (0 text, 1 image, 2 flow, 3 multimodal); the body from byte 3.

def v2(framing: int, specs: int, body: bytes, header_length: int = 0) -> bytes:
    return bytes([framing | specs << 2]) + struct.pack("<H", header_length) + body


def v2_json(framing: int, specs: int, obj) -> bytes:
    return v2(framing, specs, json.dumps(obj, separators=(",", ":")).encode())


def v2_binary(specs: int, inputs, extra=None) -> bytes:
    """JSON header (`inputs` as (name, datatype, shape, bytes)) + the bytes, with the header length."""
    header = {"inputs": [{"name": n, "datatype": d, "shape": s, "parameters": {"binary_data_size": len(b)}}
                         for n, d, s, b in inputs]}
    if extra:
        header.update(extra)
    text = json.dumps(header, separators=(",", ":")).encode()
    return v2(2, specs, text + b"".join(b for _, _, _, b in inputs), len(text))


MIXED = (b'{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"INT64","data":[1,2]},'
         b'{"name":"output_positions","shape":[1,1],"datatype":"INT32","parameters":{"binary_data_size":4}}]}')


def v2_seeds() -> None:
    ints = {"BOOL": [True, False, True], "UINT8": [0, 255], "INT8": [-128, 127], "UINT16": [65535, 1],
            "INT16": [-32768, 300], "UINT32": [4294967295, 7], "INT32": [-2147483648, 1], "UINT64": [0, 2**63 - 1],
            "INT64": [-2**63, 2**63 - 1]}
    every_json = [{"name": f"x_{d.lower()}", "datatype": d, "shape": [len(v)], "data": v} for d, v in ints.items()]
    every_json += [{"name": "x_fp32", "datatype": "FP32", "shape": [2, 2], "data": [[1.5, -0.0], [3.4028235e38, 1e-45]]},
                   {"name": "x_fp64", "datatype": "FP64", "shape": [3], "data": [0.1, -2.5e300, 1e-320]}]
    packs = {"BOOL": ("3B", [1, 0, 7]), "UINT8": ("2B", [255, 0]), "INT8": ("2b", [-128, 5]),
             "UINT16": ("<2H", [65535, 1]), "INT16": ("<2h", [-2, 300]), "UINT32": ("<2I", [4294967295, 7]),
             "INT32": ("<2i", [-1, 1 << 30]), "UINT64": ("<2Q", [2**63 - 1, 3]), "INT64": ("<2q", [-5, 2**63 - 1]),
             "FP16": ("<3H", [0x3C00, 0xC000, 0x7E00]), "BF16": ("<3H", [0x3F80, 0xC020, 0x7FC1]),
             "FP32": ("<3I", [0x3FC00000, 0xBF800000, 0x7FC00001]), "FP64": ("<2Q", [0x3FD0000000000000, 0x7FF0000000000000])}
    every_binary = [(f"b_{d.lower()}", d, [len(v)], struct.pack(f, *v)) for d, (f, v) in packs.items()]
    text_request = {"id": "req-1", "parameters": {"binary_data_output": False, "timeout": 1000, "priority": 1},
                    "inputs": [{"name": "input_ids", "shape": [1, 4], "datatype": "INT64", "data": [4, 103, 3, 5]},
                               {"name": "attention_mask", "shape": [1, 4], "datatype": "INT32", "data": [1, 1, 1, 0]},
                               {"name": "output_positions", "shape": [1, 1], "datatype": "INT64", "data": [2]}],
                    "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}
    s = {
        "json_text_model": v2_json(0, 0, text_request),
        "json_nested_data": v2_json(0, 0, {"inputs": [{"name": "input_ids", "shape": [2, 2], "datatype": "INT32",
                                                      "data": [[4, 7], [8, 5]]}]}),
        "json_every_datatype": v2_json(0, 0, {"inputs": every_json}),
        "json_image_model": v2_json(0, 1, {"inputs": [{"name": "pixel_values", "shape": [1, 3, 4, 4], "datatype": "FP32",
                                                      "data": [i / 7 - 1 for i in range(48)]}]}),
        "json_queries": v2_json(0, 0, {"inputs": [{"name": "input_ids", "shape": [1, 1], "datatype": "INT64", "data": [1]},
                                                 {"name": "queries", "shape": [1, 1, 8], "datatype": "FP32", "data": [0.5] * 8}]}),
        "json_multimodal": v2_json(0, 3, {"inputs": [
            {"name": "audio", "shape": [1, 4, 1], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4]},
            {"name": "image", "shape": [1, 1, 3, 1, 1], "datatype": "FP32", "data": [1, 2, 3]},
            {"name": "output_positions_label", "shape": [1, 1], "datatype": "INT64", "data": [0]}]}),
        "json_escaped_names": v2_json(0, 0, {"id": "q\"uo\\te\u0001\u2028\ud83d\ude00", "inputs": [
            {"name": "in\"put\n", "shape": [0, 3], "datatype": "UINT8", "data": []}]}),
        "json_out_of_range_integers": v2_json(0, 0, {"inputs": [{"name": "input_ids", "shape": [3], "datatype": "UINT8",
                                                                "data": [-1, 300, True]}]}),
        "json_bytes_refused": v2_json(0, 0, {"inputs": [{"name": "s", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}),
        "json_shape_overflow": v2_json(0, 0, {"inputs": [{"name": "x", "shape": [2147483648, 2], "datatype": "INT8", "data": []}]}),
        "json_fp16_refused": v2_json(0, 0, {"inputs": [{"name": "x", "shape": [1], "datatype": "FP16", "data": [1]}]}),
        "binary_every_datatype": v2_binary(0, every_binary, {"parameters": {"binary_data_output": True}}),
        "binary_text_model": v2_binary(0, [("input_ids", "INT64", [1, 3], struct.pack("<3q", 4, 5, 6)),
                                           ("attention_mask", "INT32", [1, 3], struct.pack("<3i", 1, 1, 0))]),
        "binary_mixed_with_json": v2(2, 0, MIXED + b"\x00\x00\x00\x00", len(MIXED)),
        "binary_size_mismatch": v2_binary(0, [("input_ids", "INT64", [1, 2], struct.pack("<q", 4))]),
        "binary_uint64_too_large": v2_binary(0, [("x", "UINT64", [1], struct.pack("<Q", 2**64 - 1))]),
        "binary_trailing_bytes": v2_binary(0, [("input_ids", "INT64", [1, 1], struct.pack("<q", 4))]) + b"\x00",
        "header_length_beyond_body": v2(2, 0, b'{"inputs":[]}', 0xFFFF),
        "raw_binary_text": v2(1, 0, struct.pack("<4q", 4, 103, 3, 5)),
        "raw_binary_image": v2(1, 1, struct.pack("<48f", *[i / 48 for i in range(48)])),
        "raw_binary_multimodal_audio": v2(1, 3, struct.pack("<4f", 0.25, -0.5, float("nan"), float("inf"))),
        "raw_binary_flow_has_no_required_input": v2(1, 2, struct.pack("<2f", 1, 2)),
        "raw_binary_wrong_size": v2(1, 1, b"\x00" * 7),
    }
    for name, data in s.items():
        write("v2Request", name, data)


# safetensorsHeader: whole files.

def safetensors(header, data: bytes = b"", pad: bool = True, length: int = None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def safetensors_seeds() -> None:
    for name in ["fourier_nonsquare", "seqcls_queries", "seqcls_batch", "learned_batch", "learned_positions",
                 "flow_frames", "conv_odd_nonsquare", "mlm_positions", "mlm_queries", "multimodal_subsampled"]:
        write("safetensorsHeader", "fixture_" + name, (FIXTURES / "cases" / f"{name}.safetensors").read_bytes())
    # A real model's header (74 tensors, metadata) with the data section cut off: refused, but all its JSON is read.
    model = (ROOT / "models" / "demo-mlm" / "model.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", model[:8])
    write("safetensorsHeader", "demo_mlm_header_without_data", model[:8 + n])
    dtypes = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
    every, offset = {}, 0
    for dtype, size in dtypes.items():
        every[f"t_{dtype.lower()}"] = {"dtype": dtype, "shape": [2], "data_offsets": [offset, offset + 2 * size]}
        offset += 2 * size
    s = {
        "empty_header": safetensors({}),
        "metadata_only": safetensors({"__metadata__": {"format": "pt", "note": "\u00e9\u2028"}}),
        "every_dtype": safetensors(every, bytes(range(offset))),
        "scalar_and_empty": safetensors({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
                                         "e": {"dtype": "F32", "shape": [0, 5], "data_offsets": [4, 4]},
                                         "z": {"dtype": "I8", "shape": [2, 0, 9223372036854775807], "data_offsets": [4, 4]}},
                                        b"\x00\x00\x80\x3f"),
        "overlapping": safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)),
        "reversed_offsets": safetensors({"a": {"dtype": "U8", "shape": [0], "data_offsets": [4, 0]}}, bytes(4)),
        "length_mismatch": safetensors({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
        "offsets_past_end": safetensors({"a": {"dtype": "U8", "shape": [9], "data_offsets": [0, 9]}}, bytes(8)),
        "shape_overflow": safetensors({"a": {"dtype": "F64", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}}),
        "exponent_and_bool_in_shape": safetensors(b'{"a":{"dtype":"U8","shape":[1e0,true],"data_offsets":[0,1]}}', b"x"),
        "unsupported_dtype": safetensors({"a": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"x"),
        "duplicate_keys_unicode_names": safetensors(
            '{"\u00e9\u00e8":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
            '"\u00e9\u00e8":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"\\ud83d\\ude00":'
            '{"dtype":"BOOL","shape":[1],"data_offsets":[2,3]}}'.encode(), b"abc"),
        "header_length_max": safetensors({}, length=2**64 - 1),
        "header_not_object": safetensors(b"[1,2,3]"),
        "leading_space": safetensors(b' {"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x"),
        "control_byte": safetensors(b'{"a\x01":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x"),
        "invalid_utf8": safetensors(b'{"a\xff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x"),
        "deep_nesting": safetensors(b'{"__metadata__":' + b"[" * 600 + b"]" * 600 + b"}"),
        "truncated_prefix": b"\x10\x00\x00",
    }
    for name, data in s.items():
        write("safetensorsHeader", name, data)


# inflate: request bodies in gzip (and, through the same bytes, deflate).

def gzip_member(data: bytes, level: int = 6, flags: int = 0, extra: bytes = b"", name: bytes = b"",
                comment: bytes = b"") -> bytes:
    """An RFC 1952 member written field by field, so that every optional header field can be present."""
    header = b"\x1f\x8b\x08" + bytes([flags]) + b"\x00\x00\x00\x00\x00\xff"
    if flags & 4:
        header += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        header += name + b"\x00"
    if flags & 16:
        header += comment + b"\x00"
    if flags & 2:
        header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = compressor.compress(data) + compressor.flush()
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def inflate_seeds() -> None:
    text = b'{"inputs":[{"name":"input_ids","shape":[1,4],"datatype":"INT64","data":[4,103,3,5]}]}'
    member = gzip.compress(text, mtime=0)
    s = {
        "gzip_json": member,
        "gzip_level1": gzip.compress(text * 20, compresslevel=1, mtime=0),
        "gzip_level9": gzip.compress(bytes(range(256)) * 8, compresslevel=9, mtime=0),
        "gzip_stored_block": gzip_member(b"stored " * 10, level=0),
        "gzip_empty_content": gzip.compress(b"", mtime=0),
        "gzip_two_members": member + gzip.compress(b"second", mtime=0),
        "gzip_header_fields": gzip_member(b"fields", flags=2 | 4 | 8 | 16, extra=b"AB\x02\x00xy", name=b"f.json",
                                          comment=b"hi"),
        "gzip_at_limit": gzip.compress(b"a" * 65536, mtime=0),
        "gzip_over_limit_by_one": gzip.compress(b"a" * 65537, mtime=0),
        "gzip_bomb_1mib_zeros": gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0),
        "gzip_bomb_split_members": gzip.compress(bytes(40000), mtime=0) + gzip.compress(bytes(40000), mtime=0),
        "gzip_truncated": member[:-5],
        "gzip_bad_crc": member[:-8] + b"\x00\x00\x00\x00" + member[-4:],
        "gzip_bad_length": member[:-4] + b"\x01\x00\x00\x00",
        "gzip_trailing_garbage": member + b"garbage",
        "gzip_trailing_zeros": member + bytes(8),
        "gzip_bad_method": b"\x1f\x8b\x07" + member[3:],
        "zlib_stream": zlib.compress(text, 6),
        "zlib_with_dictionary_flag": b"\x78\xbb" + zlib.compress(text)[2:],
    }
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    s["raw_deflate"] = raw.compress(text) + raw.flush()
    for name, data in s.items():
        write("inflate", name, data)


# imageDecode: the PNG and JPEG fixtures of tools/make_image_fixtures.py, plus headers that declare huge sizes.

def image_seeds() -> None:
    images = ROOT / "Tests" / "PerceiverEngineTests" / "Fixtures" / "images"
    names = ["rgb_37x23.png", "rgba_37x23.png", "grey_37x23.png", "palette_37x23.png", "rgb16_37x23.png",
             "grey16_37x23.png", "progressive_37x23.jpg", "grey_37x23.jpg", "bad/cmyk_8x8.jpg",
             "bad/huge_100000x100000.png"]
    for name in names:
        write("imageDecode", name.replace("bad/", "").replace(".", "_"), (images / name).read_bytes())
    png = (images / "rgb_37x23.png").read_bytes()
    jpeg = (images / "progressive_37x23.jpg").read_bytes()
    write("imageDecode", "png_cut_in_idat", png[:len(png) // 2])
    write("imageDecode", "jpeg_cut_in_scan", jpeg[:len(jpeg) // 2])
    # SOF2 (progressive) with its height and width bytes set to 60000 x 60000.
    sof = jpeg.index(b"\xff\xc2")
    write("imageDecode", "jpeg_sof_60000x60000", jpeg[:sof + 5] + struct.pack(">HH", 60000, 60000) + jpeg[sof + 9:])
    write("imageDecode", "png_signature_only", png[:8])
    write("imageDecode", "jpeg_soi_only", b"\xff\xd8\xff")


# jsonKit: JSON texts, valid and not, that reach each part of JSONKit and the differential against
# JSONSerialization (numbers at float rounding boundaries, escapes, repeated names, depth, encodings).

def json_seeds() -> None:
    s = {
        "v2_request": V2_JSON,
        "v2_request_pretty": json.dumps(json.loads(V2_JSON), indent=2).encode(),
        "nested_floats": b"[[0.5488135027885437, 0.7151893377304077], [0.6027633547782898, 0.5448831915855408]]",
        "float_edges": b"[1e-45, 7.006492321624085e-46, 1.1754942e-38, 3.4028234663852886e+38, "
                       b"3.40282356779733661637539395458142568448e38, 16777217, 9007199254740993, -0.0, 1e39]",
        "float_midpoints": b"[1.00000005960464477539062500, 0.100000001490116119384765625, "
                           b"1.000000059604644775390625000000000000001, 5e-324]",
        "integers": b"[0, -0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 12345678901234567890123]",
        "fractions_exponents": b"[1.0, 1e2, 1E+2, 1e-2, 123.456e78, 0.000000000000000000000000000000001]",
        "strings_escapes": rb'["a\"\\\/\b\f\n\r\t", "\u00e9\ud834\udd1e", "caf' + b"\xc3\xa9" + rb'", "\u0000", ""]',
        "lone_surrogate": b'["\ud800"]',
        "keys_normalization": '{"\u00e9": 1, "e\u0301": 2, "éx": 3}'.encode(),
        "duplicate_top": b'{"a": 1, "b": [], "a": 2}',
        "duplicate_nested": b'{"x": [{"k": 1}, {"k": 1, "c": {"d": 0, "d": 1}}]}',
        "duplicate_escaped": b'{"a": 1, "\u0061": 2}',
        "deep_70": b"[" * 70 + b"]" * 70,
        "mixed_types": b'{"n": null, "t": true, "f": false, "o": {}, "a": [[], [{}], "s", 1]}',
        "bom_object": b"\xef\xbb\xbf{}",
        "invalid_utf8": b'["\xc3\x28", "\xed\xa0\x80"]',
        "trailing_comma": b'{"a": [1, 2,], }',
        "leading_zero": b"[01, -0.5, .5]",
        "control_character": b'["tab\there"]',
        "whitespace_forms": b" \t\r\n[ 1 ,\n\t2 ] \n",
        "utf16le": "[\"é\"]".encode("utf-16-le"),
    }
    for name, data in s.items():
        write("jsonKit", name, data)


def main() -> None:
    http_seeds()
    chunked_seeds()
    v2_seeds()
    safetensors_seeds()
    inflate_seeds()
    image_seeds()
    json_seeds()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
