"""A real Dovecot IMAP server for the tests: its own config, mail and state in a temporary
folder, on a free port, one user from a passwd file. Debian's dovecot-imapd (make test and
.ci/run install it when missing)."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "rapport", "imap-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, folder: Path) -> None:
        """``folder``: a folder of its own (not pytest's tmp_path, whose parents only root may enter)."""
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        for sub in ("run", "state", "mail"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        user = pwd.getpwuid(os.getuid()).pw_name
        # Dovecot never keeps mail as root: as root, the mail belongs to Debian's dovecot user.
        mail_user = pwd.getpwnam("dovecot") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
        folder.chmod(0o711)  # the mail processes pass through to mail/
        os.chown(folder / "mail", uid, gid)
        (folder / "dovecot.conf").write_text(
            f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# The passwd file sits in the test's private temporary folder: auth reads it as the test's user.
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""
        )

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def start(self) -> None:
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.folder / "dovecot.conf")])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Dovecot did not start: {(self.folder / 'dovecot.log').read_text(errors='replace')}")

    def _children(self) -> list[int]:
        assert self.process is not None
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        """Stop the server and drop every client connection (a session's imap process outlives
        its master otherwise, and the client would never notice)."""
        if self.process is not None:
            children = self._children()
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        while True:  # until the port is free again, so a restart can listen on it
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.1)
            except OSError:
                return
