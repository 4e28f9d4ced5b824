"""Debian's nginx in front of test nodes, running the shipped deploy/nginx/ configuration.

The site file (`deploy/nginx/shelterwatch.conf`) is used as shipped but for its listen port and
the pack directory; the upstream file keeps its every option and gets the nodes' ports as its
server lists: the API nodes', and the stream nodes' (the API nodes' when a test runs none). nginx
runs as the test's child (`-p DIR -g 'daemon off;'`), never as the system service, on a free
loopback port.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def missing_nginx() -> str | None:
    """Why the nginx tests cannot run here, or None when they can."""
    if not Path(NGINX).is_file():
        return "nginx not installed (apt-get install nginx; scripts/system-deps.sh does)"
    return None


def _replace_once(text: str, pattern: str, replacement: str) -> str:
    """Substitute exactly one match, so a deploy file that drifted fails the test loudly."""
    out, n = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if n != 1:
        raise AssertionError(f"deploy/nginx: expected one {pattern!r}, found {n}")
    return out


def _render_block(text: str, name: str, ports: Sequence[int]) -> str:
    """The `upstream NAME { … }` block with its server lines replaced by one per port, each
    keeping the first line's options."""
    found = re.search(rf"^upstream {name} {{\n(.*?)^}}$", text, flags=re.MULTILINE | re.DOTALL)
    if found is None:
        raise AssertionError(f"deploy/nginx/upstream.conf has no upstream {name}")
    body = found.group(1)
    lines = re.findall(r"^(\s*)server \S+(.*);$", body, flags=re.MULTILINE)
    if not lines:
        raise AssertionError(f"deploy/nginx/upstream.conf lists no server in {name}")
    indent, options = lines[0]
    servers = "\n".join(f"{indent}server 127.0.0.1:{p}{options};" for p in ports)
    body = re.sub(r"^\s*server \S+.*;\n", "", body, flags=re.MULTILINE)
    body = _replace_once(body, r"^(\s*least_conn;)$", rf"\1\n{servers}")
    return text[:found.start(1)] + body + text[found.end(1):]


def render_upstream(api_ports: Sequence[int], stream_ports: Sequence[int] = ()) -> str:
    """upstream.conf with the API nodes' and the stream nodes' ports. Without stream nodes the
    stream upstream lists the API nodes, as a deployment without them does."""
    text = (DEPLOY / "upstream.conf").read_text()
    text = _render_block(text, "shelterwatch_api", api_ports)
    return _render_block(text, "shelterwatch_stream", stream_ports or api_ports)


def render_site(port: int, pack_dir: Path) -> str:
    text = (DEPLOY / "shelterwatch.conf").read_text()
    text = _replace_once(text, r"^(\s*)listen 80;$", rf"\1listen 127.0.0.1:{port};")
    return _replace_once(text, r"^(\s*)root /var/lib/shelterwatch/pack;$", rf"\1root {pack_dir};")


@dataclass
class Nginx:
    port: int
    proc: subprocess.Popen[bytes]
    prefix: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text() if path.exists() else ""


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@contextlib.contextmanager
def nginx_in_front(node_ports: Sequence[int], prefix: Path, pack_dir: Path | None = None,
                   stream_ports: Sequence[int] = ()) -> Iterator[Nginx]:
    """Run nginx with the deploy configuration in front of the API nodes `node_ports` (and the
    stream nodes `stream_ports`, when there are any) until the block ends."""
    prefix.mkdir(parents=True, exist_ok=True)
    pack = pack_dir or prefix / "pack"
    pack.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (prefix / "upstream.conf").write_text(render_upstream(node_ports, stream_ports))
    (prefix / "shelterwatch.conf").write_text(render_site(port, pack))
    temp = {name: prefix / "tmp" / name for name in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                     "scgi")}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    # as root, nginx's workers would run as nobody, who cannot read pytest's private tmp dirs
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log info;\n"
        "events { worker_connections 1024; }\n"
        "http {\n    access_log off;\n"
        + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
        + f"    include {prefix}/upstream.conf;\n    include {prefix}/shelterwatch.conf;\n}}\n")
    base = [NGINX, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c",
            str(prefix / "nginx.conf")]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen([*base, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    server = Nginx(port, proc, prefix)
    try:
        deadline = time.monotonic() + 15
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {server.error_log()[-2000:]}")
            time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
