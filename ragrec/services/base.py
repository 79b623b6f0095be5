"""What every managed service reports, and the error it raises when it cannot start."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


class ServiceError(RuntimeError):
    """A service could not be installed, started or reached. The message says what to do."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message


@dataclass
class ServiceStatus:
    name: str
    reachable: bool
    mode: str  # "local" (managed under .ragrec) or "external"
    listen: str  # where it listens: host:port, path, or URL
    version: dict[str, str] = field(default_factory=dict)
    detail: str = ""
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()
