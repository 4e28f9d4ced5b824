"""Photos, stored content-addressed: the SHA-256 of the bytes is the name and goes into the fact,
so the log proves which photo was taken. A directory by default; an S3-compatible bucket when
configured (path-style requests signed with AWS Signature V4, spoken over httpx)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from shelterwatch.config import Settings
from shelterwatch.errors import InvalidInput, NotFound, Unavailable

TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass(frozen=True, slots=True)
class Photo:
    sha256: str
    data: bytes
    content_type: str


def decode(text: str, *, field: str, max_bytes: int) -> Photo:
    """A base64 JPEG or PNG from a submission, checked; InvalidInput says what is wrong."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{field}: not base64") from None
    return check(data, field=field, max_bytes=max_bytes)


def check(data: bytes, *, field: str, max_bytes: int) -> Photo:
    if len(data) > max_bytes:
        raise InvalidInput(f"{field}: {len(data)} bytes, over the {max_bytes} allowed "
                           "(the page downscales to 1600 px and 500 KB)")
    kind = next((t for magic, t in TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise InvalidInput(f"{field}: not a JPEG or PNG image")
    return Photo(hashlib.sha256(data).hexdigest(), data, kind)


class PhotoStore(Protocol):
    def put(self, photo: Photo) -> None: ...
    def get(self, sha256: str) -> bytes: ...


class DiskStore:
    """`<dir>/ab/abcdef…`; a photo already there is not written again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / sha256

    def put(self, photo: Photo) -> None:
        path = self._path(photo.sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(photo.data)
            f.flush()
            os.fsync(f.fileno())  # acknowledged means on disk, like the record that names it
        os.replace(tmp, path)

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.is_file():
            raise NotFound(f"no photo {sha256}")
        return path.read_bytes()


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class S3Store:
    """An S3-compatible bucket (MinIO, Ceph, AWS) addressed path-style."""

    def __init__(self, url: str, bucket: str, *, region: str, key_id: str, secret: str,
                 timeout_s: float = 10.0) -> None:
        self.url, self.bucket, self.region = url.rstrip("/"), bucket, region
        self.key_id, self.secret = key_id, secret
        self.client = httpx.Client(timeout=timeout_s)

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        now = datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        host = httpx.URL(self.url).netloc.decode()
        digest = hashlib.sha256(body).hexdigest()
        headers = {"host": host, "x-amz-content-sha256": digest, "x-amz-date": stamp}
        names = ";".join(sorted(headers))
        canonical = "\n".join([method, path, "",
                               "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                               names, digest])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = _sign(_sign(_sign(_sign(f"AWS4{self.secret}".encode(), day), self.region),
                          "s3"), "aws4_request")
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                                    f"SignedHeaders={names}, Signature={signature}")
        return headers

    def _request(self, method: str, path: str, body: bytes = b"",
                 extra: dict[str, str] | None = None) -> httpx.Response:
        headers = {**self._headers(method, path, body), **(extra or {})}
        try:
            return self.client.request(method, self.url + path, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise Unavailable(f"the photo store at {self.url} did not answer: {e}") from None

    def ensure_bucket(self) -> None:
        response = self._request("PUT", f"/{self.bucket}")
        if response.status_code not in (200, 409):
            raise Unavailable(f"could not create bucket {self.bucket}: {response.status_code}")

    def put(self, photo: Photo) -> None:
        response = self._request("PUT", f"/{self.bucket}/{photo.sha256}", photo.data,
                                 {"content-type": photo.content_type})
        if response.status_code != 200:
            raise Unavailable(f"the photo store refused photo {photo.sha256}: "
                              f"{response.status_code} {response.text[:200]}")

    def get(self, sha256: str) -> bytes:
        response = self._request("GET", f"/{self.bucket}/{sha256}")
        if response.status_code == 404:
            raise NotFound(f"no photo {sha256}")
        if response.status_code != 200:
            raise Unavailable(f"the photo store answered {response.status_code}")
        return response.content


def store_for(settings: Settings) -> PhotoStore:
    """The configured store: S3-compatible when `photos_s3_url` is set, else the directory."""
    if settings.photos_s3_url:
        return S3Store(settings.photos_s3_url, settings.photos_s3_bucket,
                       region=settings.photos_s3_region, key_id=settings.photos_s3_key_id,
                       secret=settings.photos_s3_secret)
    return DiskStore(Path(settings.photo_dir))


def check_name(sha256: str) -> str:
    """A photo's name is 64 lowercase hex digits; anything else names nothing (and no path)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("a photo is named by the 64 hex digits of its SHA-256")
    return sha256
