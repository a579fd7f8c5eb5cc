"""The interactive shell driven through a pseudo-terminal, as a person types at it."""

from __future__ import annotations

import fcntl  # POSIX, like the README's install: these tests drive the shell through a pseudo-terminal
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
_ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[@-Z\\-_])")


class Terminal:
    """The controlling side of a pseudo-terminal: type keys, wait for text on the screen."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.raw = ""

    @property
    def text(self) -> str:
        """Everything shown so far, without escape sequences."""
        return _ESCAPE_SEQUENCE.sub("", self.raw).replace("\r", "")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def read_available(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the other side closed
            return False
        self.raw += chunk.decode("utf-8", errors="replace")
        return bool(chunk)

    def expect(self, text: str, *, after: int = 0, timeout: float = 15.0) -> int:
        """Wait until ``text`` appears at or after position ``after``; return where it ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            position = self.text.find(text, after)
            if position >= 0:
                return position + len(text)
            self.read_available(0.1)
        raise AssertionError(f"{text!r} did not appear; the terminal shows:\n{self.text[after:]}")


def test_multi_line_statement_error_interrupt_and_quit(tmp_path: Path) -> None:
    history = tmp_path / "history"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    environment = {**os.environ, "PAQDB_HISTORY": str(history), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    environment.pop("NO_COLOR", None)
    environment["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY), environment.get("PYTHONPATH", "")])
    process = subprocess.Popen(
        [sys.executable, "-m", "paqdb.cli.shell"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environment,
        cwd=tmp_path,
        close_fds=True,
    )
    os.close(slave)
    terminal = Terminal(master)
    try:
        seen = terminal.expect("paqdb>")
        terminal.type("SELECT 42\r")  # no semicolon yet: the statement goes on
        seen = terminal.expect("...>", after=seen)
        terminal.type("AS answer;\r")
        seen = terminal.expect("│      42 │", after=seen)
        seen = terminal.expect("(1 row)", after=seen)
        seen = terminal.expect("paqdb>", after=seen)

        terminal.type("SELECT * FROM no_such_table;\r")  # an error: printed in red, the shell goes on
        seen = terminal.expect(
            "Error: Catalog Error: Table with name no_such_table does not exist", after=seen
        )
        assert "\x1b[31mError: Catalog Error" in terminal.raw
        seen = terminal.expect("paqdb>", after=seen)

        terminal.type("SELECT 'dropped'\x03")  # Ctrl-C at the prompt drops the input
        seen = terminal.expect("paqdb>", after=seen)
        terminal.type(".quit\r")
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert "│ dropped" not in terminal.text  # the dropped input never ran
    assert "SELECT 42\n+AS answer;" in history.read_text()
