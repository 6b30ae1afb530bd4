"""Every image kept at ingestion decodes: header caps, PNG stream checks, --verify_decode."""
import pytest

from ingestion.formats import image_codec, integrity
from ingestion import records
from tests.ingestion.hostile import corpus
from tests.ingestion import fixtures


def _reason(data: bytes, limits: integrity.Limits = integrity.DEFAULT_LIMITS) -> str:
    with pytest.raises(records.Rejected) as err:
        image_codec.normalize(data, limits)
    return err.value.reason


def test_bomb_headers_are_too_large_before_any_decode():
    assert _reason(corpus.bomb_png()) == records.TOO_LARGE
    assert _reason(corpus.bomb_gif()) == records.TOO_LARGE
    # The caps are configurable: a 16x12 PNG is too large for a 10 px cap.
    assert _reason(fixtures.png_bytes(12, 16), integrity.Limits(max_side=10)) == records.TOO_LARGE
    assert _reason(fixtures.jpeg_bytes(12, 16), integrity.Limits(max_pixels=100)) == records.TOO_LARGE


@pytest.mark.parametrize("make, reason", [
    (corpus.garbage_pixels_png, records.CORRUPT),
    (corpus.short_stream_png, records.CORRUPT),
    (corpus.bad_filter_png, records.CORRUPT),
])
def test_png_with_valid_crcs_but_broken_pixels_is_rejected(make, reason):
    assert _reason(make()) == reason


@pytest.mark.parametrize("data", [
    fixtures.png_bytes(12, 16), fixtures.png_bytes(7, 5, gray=True),
    fixtures.encode(fixtures.pixels(9, 13, 3, 1), "PNG", interlace=1),  # Adam7 passes
    fixtures.gif_bytes(),  # re-encoded through Pillow: the header cap still applies first
    fixtures.png16_bytes(), fixtures.rgba_png_bytes(),
])
def test_well_formed_pngs_still_pass(data):
    assert image_codec.normalize(data).height > 0


def test_verify_decode_catches_what_the_marker_walk_cannot():
    data = corpus.jpeg_without_quantization_tables()
    kept = image_codec.normalize(data)  # frame, scan and EOI present: structurally fine
    assert kept.format == "jpeg"
    assert _reason(data, integrity.Limits(verify_decode=True)) == records.CORRUPT
    assert image_codec.normalize(fixtures.jpeg_bytes(), integrity.Limits(verify_decode=True))


def test_reject_details_never_quote_the_file():
    with pytest.raises(records.Rejected) as err:
        image_codec.normalize(corpus.SECRET)
    assert err.value.reason == records.NOT_AN_IMAGE
    assert "root" not in str(err.value)
    with pytest.raises(records.Rejected) as err:
        image_codec.normalize(b"GIF89a" + corpus.SECRET)
    assert "root" not in str(err.value)
