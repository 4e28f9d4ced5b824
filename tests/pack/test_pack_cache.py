"""The pack's ETag checks never queue behind a rebuild: one request rebuilds, the rest are answered
with the previous pack, whose ETag matches what they are sent."""

from __future__ import annotations

import threading

from shelterwatch.pack.service import Pack, PackCache


def test_while_one_request_rebuilds_the_others_get_the_previous_pack_at_once() -> None:
    started, release = threading.Event(), threading.Event()
    versions = iter([b"v1", b"v2"])

    def build() -> Pack:
        body = next(versions)
        if body == b"v2":
            started.set()
            release.wait(5)  # a slow rebuild, as for a national registry
        return Pack(body=body, gzipped=body, etag=f'"{body.decode()}"')

    cache = PackCache(build)
    assert cache.current().etag == '"v1"'
    cache.mark_stale()
    rebuilt: list[Pack] = []
    rebuilding = threading.Thread(target=lambda: rebuilt.append(cache.current()))
    rebuilding.start()
    assert started.wait(5)
    meanwhile = cache.current()  # answered at once, not after the rebuild
    assert (meanwhile.body, meanwhile.etag) == (b"v1", '"v1"')
    release.set()
    rebuilding.join(5)
    assert rebuilt[0].etag == '"v2"'
    assert cache.current().etag == '"v2"' and cache.builds == 2
