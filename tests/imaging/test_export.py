"""The posting file: encoded from pixels, sRGB, within the size limits, with no metadata at all.

The strongest test reads the bytes: an iPad-like JPEG with GPS EXIF and an IFD1 thumbnail (the
unmasked original in miniature) goes in, and what comes out has one image, no APP1, no "Exif",
no XMP, no ICC, no comment, and ends at the end-of-image marker.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from ijs_vetting.imaging.export import (
    ExportError,
    encode_jpeg,
    metadata_problems,
    to_srgb,
)
from ijs_vetting.imaging.render import render_for_posting
from tests import scenes


def _segments(data: bytes) -> list[int]:
    """Marker bytes of the header segments up to the first scan."""
    markers, pos = [], 2
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:
        markers.append(data[pos + 1])
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return markers


def test_gps_exif_and_thumbnail_never_reach_the_posting_file(tmp_path: Path) -> None:
    group = scenes.group_scene(face_width=120)
    source = scenes.write_jpeg_with_gps_and_thumbnail(tmp_path / "ipad.jpg", group.pixels)
    original = source.read_bytes()
    assert b"Exif" in original and original.count(b"\xff\xd8") == 2  # the fixture is what it says

    rendering = render_for_posting(source, [group.boxes[1]])
    data = rendering.data
    assert source.read_bytes() == original  # the original is only read
    assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
    assert data.count(b"\xff\xd8") == 1  # no embedded thumbnail: one image only
    for forbidden in (
        b"Exif",
        b"\xff\xe1",
        b"http://ns.adobe.com/xap",
        b"ICC_PROFILE",
        b"\xff\xfe",
    ):
        assert forbidden not in data, forbidden
    for leaked in (b"Apple", b"iPad", b"2024:06:14"):
        assert leaked not in data
    assert set(_segments(data)) <= {0xE0, 0xDB, 0xC0, 0xC4}
    assert metadata_problems(data) == []
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.mode == "RGB"
        assert dict(im.getexif()) == {}
        assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(im.info)
        assert im.size == (rendering.width, rendering.height) == group.pixels.shape[1::-1]


def test_the_check_names_every_kind_of_leftover() -> None:
    pixels = scenes.background(64, 48)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    Image.fromarray(pixels).save(
        buffer,
        "JPEG",
        exif=exif.tobytes(),
        comment=b"IMG_0001",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    dirty = buffer.getvalue() + b"trailing"
    problems = " | ".join(metadata_problems(dirty))
    for words in ("EXIF", "ICC", "comment", "bytes after the end-of-image"):
        assert words in problems
    packet = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
    xmp = b"\xff\xd8\xff\xe1" + (len(packet) + 2).to_bytes(2, "big") + packet + b"\xff\xd9"
    assert metadata_problems(xmp) == ["an XMP packet (APP1)"]
    assert metadata_problems(b"GIF89a") != []
    clean = encode_jpeg(pixels)
    assert metadata_problems(clean) == []
    assert metadata_problems(clean[:-2]) == ["no end-of-image marker"]


def test_size_limits() -> None:
    big = np.ascontiguousarray(np.repeat(np.repeat(scenes.background(1300, 900), 4, 0), 4, 1))
    fitted = np.ascontiguousarray(cv2.resize(big, (4096, 2835), interpolation=cv2.INTER_AREA))
    with pytest.raises(ExportError, match="reduce it"):
        encode_jpeg(big)
    data = encode_jpeg(fitted)
    assert len(data) < 5_000_000
    noise = np.random.default_rng(1).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    small = encode_jpeg(noise, max_bytes=300_000)  # steps quality down until it fits
    assert len(small) < 300_000 and metadata_problems(small) == []
    with pytest.raises(ExportError, match="does not fit"):
        encode_jpeg(noise, max_bytes=20_000)


def test_large_originals_are_reduced_and_masks_follow(tmp_path: Path) -> None:
    group = scenes.scaled(scenes.group_scene(face_width=120), 5.0)
    source = scenes.write_jpeg(tmp_path / "big.jpg", group.pixels, quality=70)
    rendering = render_for_posting(source, [group.boxes[1]])
    assert max(rendering.width, rendering.height) == 4096
    factor = 4096 / group.pixels.shape[1]
    (masked,) = rendering.masked_faces
    assert abs(masked.left - group.boxes[1].left * factor) < 1
    assert len(rendering.data) < 5_000_000


def test_colours_are_converted_to_srgb_and_bad_profiles_ignored() -> None:
    pixels = np.full((8, 8, 3), (200, 40, 40), np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert np.abs(to_srgb(pixels, srgb).astype(int) - pixels).max() <= 2
    assert to_srgb(pixels, b"not a profile") is pixels
    assert to_srgb(pixels, None) is pixels


def test_heic_input_comes_out_as_a_clean_jpeg(tmp_path: Path) -> None:
    group = scenes.group_scene(face_width=100)
    source = scenes.write_heic(tmp_path / "IMG_0001.HEIC", group.pixels)
    rendering = render_for_posting(source, [])
    assert metadata_problems(rendering.data) == []
    assert rendering.regions == ()
