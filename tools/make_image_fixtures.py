"""Writes the image fixtures: small PNG and JPEG files, PIL's decoded pixels, and PerceiverImageProcessorPil's
resized pixels and pixel_values for a few processor configs.

Run with the venv that has transformers and pillow (tools/requirements.txt):
    /work/main/.venv/bin/python tools/make_image_fixtures.py
It rewrites Tests/PerceiverEngineTests/Fixtures/images/ (manifest.json, the images, expected/*).
Raw files: *.rgb are uint8 (H, W, 3) row-major, as numpy.asarray(image.convert("RGB")); *.f32 are little-endian
float32 in C order, pixel_values (3, H, W) or a (3, 256) table. Deterministic: numpy's seeded PCG64.
"""
import io
import json
import os
import struct
import zlib

import numpy as np
import PIL
from PIL import Image, features
import transformers
from transformers.image_utils import SizeDict
from transformers.models.perceiver.image_processing_pil_perceiver import PerceiverImageProcessorPil

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "PerceiverEngineTests", "Fixtures", "images")
RNG = np.random.default_rng(20261121)

# Processor configs, as preprocessor_config.json would hold them (missing keys take the class defaults).
CONFIGS = {
    "default": {},
    "size8_nocrop": {"do_center_crop": False, "size": {"height": 8, "width": 8}},
    "bilinear16": {"resample": 2, "size": {"height": 16, "width": 16}, "crop_size": {"height": 20, "width": 20}},
    "pad_crop40": {"size": {"height": 40, "width": 40}, "crop_size": {"height": 32, "width": 32}},
    "fourier16": {"size": {"height": 16, "width": 12}, "crop_size": {"height": 18, "width": 18},
                  "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
    # No preprocessor_config.json on a model with a fixed 8x8 input (the learned fixture): the default crop fraction
    # 224/256 of the shorter side, then the resize goes to the model's 8x8.
    "learned_default": {"model_size": 8},
}


def pattern(width, height, channels):
    """Gradients, a ring and noise: edges in every direction for the resampling filters to work on."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = np.hypot(x - width * 0.4, y - height * 0.6)
    planes = [255 * x / max(width - 1, 1), 255 * y / max(height - 1, 1), 127.5 + 127.5 * np.sin(r / 3.0),
              255 * ((x + 2 * y) % 7 < 3)]
    image = np.stack(planes[:channels], axis=-1) + RNG.normal(0, 12, (height, width, channels))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def images():
    """(file name, encoded bytes, decoded RGB uint8, note) for each fixture image."""
    out = []
    rgb_small, rgb_large = pattern(37, 23, 3), pattern(300, 200, 3)
    portrait = pattern(23, 37, 3)
    for name, array, mode in (("rgb_37x23.png", rgb_small, "RGB"), ("rgb_300x200.png", rgb_large, "RGB"),
                              ("rgb_23x37.png", portrait, "RGB"), ("rgba_37x23.png", pattern(37, 23, 4), "RGBA"),
                              ("grey_37x23.png", pattern(37, 23, 1)[..., 0], "L")):
        out.append((name, encode(Image.fromarray(array, mode), "PNG"), None))
    palette = Image.fromarray(rgb_small, "RGB").quantize(colors=50)
    out.append(("palette_37x23.png", encode(palette, "PNG"), None))
    # 16-bit RGB: PIL reads it as RGB through its "RGB;16B" unpacker, which keeps each sample's high byte.
    wide = pattern(37, 23, 3).astype(">u2") * 257 + RNG.integers(0, 257, (23, 37, 3)).astype(">u2")
    out.append(("rgb16_37x23.png", png16(wide, colour_type=2), None))
    grey16 = (pattern(37, 23, 1)[..., 0].astype(np.uint16) * 257).astype(">u2")
    out.append(("grey16_37x23.png", png16(grey16, colour_type=0),
                "PIL opens 16-bit greyscale as I;16 and convert('RGB') clips every value above 255 to 255; "
                "the expected pixels here are the high byte, as for 16-bit RGB"))
    out.append(("baseline_300x200.jpg", encode(Image.fromarray(rgb_large), "JPEG", quality=90), None))
    out.append(("progressive_37x23.jpg", encode(Image.fromarray(rgb_small), "JPEG", quality=85, progressive=True),
                None))
    out.append(("grey_37x23.jpg", encode(Image.fromarray(pattern(37, 23, 1)[..., 0], "L"), "JPEG", quality=90),
                None))
    return out


def png16(samples, colour_type):
    """A 16-bit PNG written by hand (PIL cannot write 16-bit RGB)."""
    height, width = samples.shape[:2]
    rows = samples.reshape(height, -1).astype(">u2").tobytes()
    stride = len(rows) // height
    raw = b"".join(b"\x00" + rows[i * stride:(i + 1) * stride] for i in range(height))
    return png_file([(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)),
                     (b"IDAT", zlib.compress(raw)), (b"IEND", b"")])


def png_file(chunks):
    body = b"".join(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
                    for kind, data in chunks)
    return b"\x89PNG\r\n\x1a\n" + body


def decoded(name, data, note):
    image = Image.open(io.BytesIO(data))
    if note:  # 16-bit greyscale: the high byte, replicated
        return np.repeat((np.asarray(image).astype(np.uint16) >> 8).astype(np.uint8)[..., None], 3, axis=-1)
    return np.asarray(image.convert("RGB"))


def processor(config):
    kwargs = {k: v for k, v in config.items() if k != "model_size"}
    return PerceiverImageProcessorPil(**kwargs)


def run(config, rgb):
    """(resized uint8 (H, W, 3), pixel_values (3, H, W) float32) through the processor's own steps."""
    p = processor(config)
    chw = np.moveaxis(rgb, -1, 0)
    if p.do_center_crop:
        chw = p.center_crop(chw, size=p.size, crop_size=p.crop_size)
    if p.do_resize:
        side = config.get("model_size")
        size = SizeDict(height=side, width=side) if side else p.size
        chw = p.resize(chw, size=size, resample=p.resample)
    resized = np.moveaxis(chw, 0, -1).copy()
    if "model_size" not in config:  # the whole preprocess call must agree with the steps
        full = p(rgb, return_tensors="np")["pixel_values"][0]
    else:
        full = chw
        if p.do_rescale:
            full = p.rescale(full, p.rescale_factor)
        if p.do_normalize:
            full = p.normalize(full, p.image_mean, p.image_std)
    return resized, np.asarray(full, dtype=np.float32)


def value_table(config):
    """pixel_values of every uint8 value in every channel, (3, 256): rescale and normalize are per element."""
    p = processor(config)
    ramp = np.broadcast_to(np.arange(256, dtype=np.uint8), (3, 1, 256)).copy()
    if p.do_rescale:
        ramp = p.rescale(ramp, p.rescale_factor)
    if p.do_normalize:
        ramp = p.normalize(ramp, p.image_mean, p.image_std)
    return np.asarray(ramp, dtype=np.float32).reshape(3, 256)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    entries, cases = [], []
    decoded_by_name = {}
    for name, data, note in images():
        write(os.path.join(OUT, name), data)
        rgb = decoded(name, data, note)
        decoded_by_name[name] = rgb
        stem = name.replace(".", "_")
        write(os.path.join(OUT, "expected", stem + ".rgb"), rgb.tobytes())
        entries.append({"file": name, "width": rgb.shape[1], "height": rgb.shape[0],
                        "decoded": "expected/" + stem + ".rgb", **({"note": note} if note else {})})
    plan = {"default": ["rgb_300x200.png", "rgb_37x23.png"],
            "size8_nocrop": ["rgb_300x200.png", "rgb_37x23.png", "baseline_300x200.jpg"],
            "bilinear16": ["rgb_300x200.png", "rgb_23x37.png", "rgba_37x23.png"],
            "pad_crop40": ["rgb_37x23.png", "rgb_23x37.png", "grey_37x23.png"],
            "fourier16": ["rgb_300x200.png", "baseline_300x200.jpg"],
            "learned_default": ["rgb_300x200.png", "baseline_300x200.jpg", "rgb_37x23.png"]}
    for config_name, names in plan.items():
        config = CONFIGS[config_name]
        table = "expected/" + config_name + "_values.f32"
        write(os.path.join(OUT, table), value_table(config).astype("<f4").tobytes())
        for name in names:
            resized, pixel_values = run(config, decoded_by_name[name])
            stem = f"expected/{name.replace('.', '_')}.{config_name}"
            write(os.path.join(OUT, stem + ".rgb"), resized.tobytes())
            case = {"image": name, "config": config_name, "height": resized.shape[0], "width": resized.shape[1],
                    "resized": stem + ".rgb", "values": table}
            if pixel_values.size <= 3 * 64 * 64:  # the 224x224 outputs are checked through resized + values
                write(os.path.join(OUT, stem + ".f32"), pixel_values.astype("<f4").tobytes())
                case["pixel_values"] = stem + ".f32"
            cases.append(case)
    # Hostile files: a header claiming 100000x100000, a CMYK JPEG, and truncated copies of valid images.
    write(os.path.join(OUT, "bad", "cmyk_8x8.jpg"), encode(Image.new("CMYK", (8, 8), (10, 20, 30, 40)), "JPEG"))
    write(os.path.join(OUT, "bad", "huge_100000x100000.png"),
          png_file([(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)),
                    (b"IDAT", zlib.compress(bytes(4096))), (b"IEND", b"")]))
    for name in ("rgb_300x200.png", "baseline_300x200.jpg"):
        with open(os.path.join(OUT, name), "rb") as f:
            data = f.read()
        write(os.path.join(OUT, "bad", "truncated_" + name), data[:len(data) * 6 // 10])
    manifest = {"generator": "tools/make_image_fixtures.py", "pillow": PIL.__version__,
                "transformers": transformers.__version__, "numpy": np.__version__,
                "pillow_libjpeg_turbo": features.version("libjpeg_turbo"),
                "processor": "PerceiverImageProcessorPil", "configs": CONFIGS, "images": entries, "cases": cases}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
