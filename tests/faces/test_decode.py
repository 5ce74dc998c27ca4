"""Decoding photos upright, reduced decoding, damaged files and EXIF facts."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps

from ijs_vetting.imaging.decode import ImageDecodeError, decode_image, upright_size
from ijs_vetting.imaging.exif import read_capture_info
from tests import scenes
from tests.faces.conftest import Photos


def _close(a: np.ndarray, b: np.ndarray, tolerance: float = 6.0) -> bool:
    return a.shape == b.shape and float(np.abs(a.astype(float) - b).mean()) < tolerance


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_jpeg_decodes_upright(photos: Photos, orientation: int) -> None:
    path = photos.group_rotated[orientation]
    with Image.open(path) as stored:
        assert stored.size != photos.group.pixels.shape[1::-1] or orientation == 3
    decoded = decode_image(path)
    assert _close(decoded.pixels, photos.group.pixels)
    assert (decoded.full_width, decoded.full_height) == photos.group.pixels.shape[1::-1]
    assert upright_size(path) == photos.group.pixels.shape[1::-1]


def _stored_jpeg(tmp_path: Path, stored: np.ndarray, orientation: int, mode: str = "RGB") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}{mode}.jpg"
    Image.fromarray(stored).convert(mode).save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path.read_bytes()


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("max_side", [None, 40])
def test_every_exif_orientation_turns_as_pillow_does(
    tmp_path: Path, orientation: int, max_side: int | None
) -> None:
    """The fast JPEG road turns the picture itself; Pillow's exif_transpose is the reference."""
    rows, cols = np.mgrid[0:48, 0:80]
    stored = np.stack([rows * 5, cols * 3, 255 - cols * 2], axis=2).astype(np.uint8)
    stored[:16, :16] = 255  # a corner marker: a wrong turn or mirror moves it
    data = _stored_jpeg(tmp_path, stored, orientation)
    with Image.open(io.BytesIO(data)) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    decoded = decode_image(data, max_side=max_side)
    assert (decoded.full_width, decoded.full_height) == expected.shape[1::-1]
    if max_side is None:
        assert np.array_equal(decoded.pixels, expected)  # the same libjpeg-turbo, bit for bit
    else:
        reduced = cv2.resize(expected, decoded.pixels.shape[1::-1], interpolation=cv2.INTER_AREA)
        assert _close(decoded.pixels, reduced, tolerance=4.0)


def test_cmyk_jpeg_decodes_in_its_colours(tmp_path: Path) -> None:
    stored = np.full((32, 48, 3), (200, 40, 40), dtype=np.uint8)
    data = _stored_jpeg(tmp_path, stored, 1, mode="CMYK")
    decoded = decode_image(data)
    assert decoded.pixels.shape == (32, 48, 3)
    assert _close(decoded.pixels, stored, tolerance=12.0)


def test_a_jpeg_the_fast_decoder_cannot_describe_is_left_to_pillow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TurboJPEG refuses sampling layouts outside its list, which libjpeg (Pillow) reads."""
    from ijs_vetting.imaging import decode

    def unsupported(*_args: object, **_kwargs: object) -> np.ndarray:
        raise ValueError(
            "tjDecompressHeader3(): Could not determine subsampling level of JPEG image"
        )

    rows, cols = np.mgrid[0:48, 0:80]
    stored = np.stack([rows * 5, cols * 3, 255 - cols * 2], axis=2).astype(np.uint8)
    data = _stored_jpeg(tmp_path, stored, 6)
    with Image.open(io.BytesIO(data)) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    monkeypatch.setattr(decode.simplejpeg, "decode_jpeg", unsupported)
    assert np.array_equal(decode_image(data).pixels, expected)


def _damaged(data: bytes, how: str) -> bytes:
    """A JPEG damaged as copies from an iPad go wrong, each still ending with an end marker, or
    one whose header libjpeg does not trust (Pillow read it whole, greying what it lost)."""
    middle = len(data) // 2
    if how == "cut, end marker kept":
        return data[:middle] + b"\xff\xd9"
    if how == "tail zero-filled":
        return data[:middle] + bytes(len(data) - middle - 2) + b"\xff\xd9"
    if how == "cut, odd JFIF version":
        version = data.index(b"JFIF\x00") + 5
        return data[:version] + b"\x02" + data[version + 1 : middle] + b"\xff\xd9"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["cut, end marker kept", "tail zero-filled", "cut, odd JFIF version"]
)
@pytest.mark.parametrize("max_side", [None, 300])
def test_a_damaged_jpeg_is_refused_not_padded_with_grey(
    photos: Photos, how: str, max_side: int | None
) -> None:
    """Pillow read all of these, filling the lost part with grey where a face could be."""
    data = _damaged(photos.group_jpeg.read_bytes(), how)
    with pytest.raises(ImageDecodeError, match="damaged"):
        decode_image(data, max_side=max_side)


def test_sixteen_bit_greyscale_png_keeps_its_picture(tmp_path: Path) -> None:
    """Pillow's convert("RGB") clips 16-bit grey to black and white; faces would vanish."""
    rows, cols = np.mgrid[0:40, 0:64]
    grey16 = ((rows * 1000 + cols * 400) % 65536).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(grey16).save(path)
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    decoded = decode_image(path).pixels
    expected = (grey16 >> 8).astype(np.uint8)
    assert decoded.shape == (40, 64, 3)
    assert np.array_equal(decoded[:, :, 0], expected)
    assert np.array_equal(decoded[:, :, 1], expected) and np.array_equal(decoded[:, :, 2], expected)


def test_reduced_decode_reports_scale_and_full_size(photos: Photos) -> None:
    decoded = decode_image(photos.class_jpeg, max_side=1000)
    assert max(decoded.pixels.shape[:2]) == 1000
    assert (decoded.full_width, decoded.full_height) == scenes.CLASS_SIZE
    assert decoded.scale == pytest.approx(1000 / 4032, rel=1e-3)
    rotated = decode_image(photos.group_rotated[6], max_side=300)
    assert (rotated.full_width, rotated.full_height) == photos.group.pixels.shape[1::-1]
    assert rotated.pixels.shape[1] == 300  # the group scene is landscape once upright


def test_small_photo_is_not_enlarged(photos: Photos) -> None:
    decoded = decode_image(photos.group_jpeg, max_side=5000)
    assert decoded.scale == 1.0


def test_heic_png_and_bytes(tmp_path: Path, photos: Photos) -> None:
    heic = scenes.write_heic(tmp_path / "g.heic", photos.group.pixels)
    png = scenes.write_png(tmp_path / "g.png", photos.group.pixels)
    assert _close(decode_image(heic).pixels, photos.group.pixels, tolerance=8.0)
    assert _close(decode_image(heic.read_bytes()).pixels, photos.group.pixels, tolerance=8.0)
    assert np.array_equal(decode_image(png).pixels, photos.group.pixels)
    assert np.array_equal(decode_image(png.read_bytes()).pixels, photos.group.pixels)


def test_rotated_heic_decodes_upright_and_a_cut_heic_fails(tmp_path: Path, photos: Photos) -> None:
    """An iPad held in portrait stores its HEIC turned, with the turn recorded in the file."""
    upright = photos.group.pixels
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "portrait.heic"
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    stored.save(path, format="HEIF", quality=90, exif=exif.tobytes())
    assert _close(decode_image(path).pixels, upright, tolerance=8.0)
    assert upright_size(path) == upright.shape[1::-1]
    cut = tmp_path / "cut.heic"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImageDecodeError):
        decode_image(cut)


def test_a_heic_with_a_zero_filled_end_is_refused(tmp_path: Path, photos: Photos) -> None:
    """libheif decodes it without a word, as garbage where the copy stopped."""
    data = scenes.write_heic(tmp_path / "g.heic", photos.group.pixels).read_bytes()
    half = len(data) // 2
    damaged = tmp_path / "damaged.heic"
    damaged.write_bytes(data[:half] + bytes(len(data) - half))
    for source in (damaged, damaged.read_bytes()):
        with pytest.raises(ImageDecodeError, match="zero bytes"):
            decode_image(source)
    assert _close(decode_image(data).pixels, photos.group.pixels, tolerance=8.0)


def test_truncated_and_garbage_files_are_errors(photos: Photos) -> None:
    for path in (photos.truncated, photos.garbage):
        with pytest.raises(ImageDecodeError) as raised:
            decode_image(path)
        assert raised.value.reason
    with pytest.raises(ImageDecodeError):
        decode_image(photos.truncated, max_side=500)
    with pytest.raises(ImageDecodeError):
        decode_image(b"")


def test_truncated_stays_an_error_even_if_someone_allows_truncation(
    photos: Photos, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as face_recognition does
    with pytest.raises(ImageDecodeError):
        decode_image(photos.truncated)


def test_engine_import_leaves_truncated_loading_off() -> None:
    code = (
        "import ijs_vetting.faces.engine, PIL.ImageFile as f; "
        "assert f.LOAD_TRUNCATED_IMAGES is False, f.LOAD_TRUNCATED_IMAGES"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)


def test_capture_info_from_exif(photos: Photos) -> None:
    info = read_capture_info(photos.gps_jpeg)
    assert info.make == "Apple"
    assert info.model == "iPad (9th generation)"
    assert info.taken_at == datetime(2024, 6, 14, 10, 31, 7, tzinfo=timezone(timedelta(hours=1)))
    bare = read_capture_info(photos.group_jpeg)
    assert bare.taken_at is None and bare.make is None and bare.model is None


def test_gps_fixture_really_has_gps_and_a_thumbnail(photos: Photos) -> None:
    with Image.open(photos.gps_jpeg) as im:
        exif = im.getexif()
        assert exif.get_ifd(ExifTags.IFD.GPSInfo)[1] == "N"
        thumb = exif.get_ifd(ExifTags.IFD.IFD1)
        assert thumb[0x0202] > 0
        data = photos.gps_jpeg.read_bytes()
        exif_start = data.index(b"Exif\x00\x00") + 6
        start = exif_start + thumb[0x0201]
        assert data[start : start + 2] == b"\xff\xd8"  # a JPEG starts where IFD1 points
