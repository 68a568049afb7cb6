"""证据照片 pages: a photo turned upright as its EXIF orientation says, scaled down with bounded memory (JPEG decoded
at a reduced scale), and one too large to decode whole, or not an image, listed without a page."""

from __future__ import annotations

import io

from PIL import Image

from documents.photos import MAX_SIDE, page_photo


def _jpeg(size: tuple[int, int], *, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: shows which way it turned
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_is_turned_upright_as_its_exif_orientation_says():
    made = page_photo(io.BytesIO(_jpeg((400, 200), orientation=6)))  # 6: the camera was turned 90° clockwise
    assert made.jpeg is not None and (made.width, made.height) == (200, 400)
    upright = Image.open(io.BytesIO(made.jpeg))
    assert upright.size == (200, 400)
    top, bottom = upright.getpixel((100, 20)), upright.getpixel((100, 380))
    assert top[2] > 150 and bottom[0] > 150  # the blue half (left) is now on top
    assert not upright.getexif().get(0x0112)  # no orientation left for a viewer to apply twice
    plain = page_photo(io.BytesIO(_jpeg((400, 200))))
    assert (plain.width, plain.height) == (400, 200)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_and_scaled_to_the_page():
    made = page_photo(io.BytesIO(_jpeg((6000, 4000))))
    assert made.jpeg is not None and max(made.width, made.height) == MAX_SIDE and made.width > made.height
    # Decoded at 1/2 scale (the draft), it stays within a bound that the whole image would exceed.
    assert page_photo(io.BytesIO(_jpeg((6000, 4000))), max_pixels=6000 * 4000 // 3).jpeg is not None


def test_an_image_too_large_to_decode_whole_or_not_an_image_is_not_embedded():
    png = io.BytesIO()
    Image.new("RGB", (3000, 2000), "white").save(png, "PNG")  # PNG has no reduced-scale decoding
    too_big = page_photo(io.BytesIO(png.getvalue()), max_pixels=1_000_000)
    assert too_big.jpeg is None and "3000×2000" in too_big.problem
    assert page_photo(io.BytesIO(png.getvalue())).jpeg is not None
    broken = page_photo(io.BytesIO(b"\xff\xd8\xff\xe0 not really a jpeg"))
    assert broken.jpeg is None and "not embedded" in broken.problem
