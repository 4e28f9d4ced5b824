"""Debian's nginx in front of test nodes, running the shipped deploy/nginx/ configuration.

The site file (`deploy/nginx/shelterwatch.conf`) is used as shipped but for its listen port and
the pack directory; the upstream file keeps its every option and gets the nodes' ports as its
server list. nginx runs as the test's child (`-p DIR -g 'daemon off;'`), never as the system
service, on a free loopback port.
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


def render_upstream(ports: Sequence[int]) -> str:
    """upstream.conf with its server lines replaced by one per node, each keeping the options."""
    text = (DEPLOY / "upstream.conf").read_text()
    lines = re.findall(r"^(\s*)server \S+(.*);$", text, flags=re.MULTILINE)
    if not lines:
        raise AssertionError("deploy/nginx/upstream.conf lists no server")
    indent, options = lines[0]
    servers = "\n".join(f"{indent}server 127.0.0.1:{p}{options};" for p in ports)
    text = re.sub(r"^\s*server \S+.*;\n", "", text, flags=re.MULTILINE)
    return _replace_once(text, r"^(\s*least_conn;)$", rf"\1\n{servers}")


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
def nginx_in_front(node_ports: Sequence[int], prefix: Path,
                   pack_dir: Path | None = None) -> Iterator[Nginx]:
    """Run nginx with the deploy configuration in front of `node_ports` until the block ends."""
    prefix.mkdir(parents=True, exist_ok=True)
    pack = pack_dir or prefix / "pack"
    pack.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (prefix / "upstream.conf").write_text(render_upstream(node_ports))
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
