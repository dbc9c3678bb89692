"""The one "image to embed" type: a file or bytes, named, with the gallery's content hash."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from app.domain.images import ImageInput


def test_a_file_and_the_same_bytes_uploaded_have_one_digest(tmp_path):
    path = tmp_path / "shoe.jpg"
    path.write_bytes(b"\xff\xd8 some jpeg bytes")
    file, upload = ImageInput.file(path), ImageInput.upload("shoe.jpg", path.read_bytes())
    expected = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    assert file.digest == upload.digest == expected
    assert (file.name, file.content, file.size(), file.read()) == (
        str(path),
        path,
        upload.size(),
        upload.read(),
    )
    assert (upload.name, upload.content) == ("shoe.jpg", path.read_bytes())


def test_a_spooled_upload_is_read_from_its_stream_whenever_asked(tmp_path):
    """An upload left where the server spooled it (here a temporary file past its spool size)
    gives the same digest, bytes and size as the same bytes in memory, read after read."""
    import tempfile

    data = b"\xff\xd8 some jpeg bytes" * 100
    with tempfile.SpooledTemporaryFile(max_size=64) as stream:
        stream.write(data)  # past 64 bytes: on disk
        spooled, upload = ImageInput.spooled("a.jpg", stream), ImageInput.upload("a.jpg", data)
        assert spooled.digest == upload.digest
        assert spooled.content == spooled.read() == data and spooled.size() == len(data)
        assert spooled.read() == data  # again, from the start
        assert spooled != ImageInput.spooled("a.jpg", io.BytesIO(data))  # another upload


def test_a_known_digest_is_not_read_again_and_a_missing_file_raises_oserror(tmp_path):
    known = ImageInput.file(tmp_path / "gone.jpg", digest="abc")
    assert known.digest == "abc"
    with pytest.raises(OSError):
        _ = ImageInput.file(tmp_path / "gone.jpg").digest


def test_exactly_one_of_path_and_bytes():
    with pytest.raises(ValueError, match="exactly one"):
        ImageInput("x.jpg")
    with pytest.raises(ValueError, match="exactly one"):
        ImageInput("x.jpg", path=Path("x.jpg"), data=b"x")
    with pytest.raises(ValueError, match="exactly one"):
        ImageInput("x.jpg", data=b"x", stream=io.BytesIO(b"x"))
