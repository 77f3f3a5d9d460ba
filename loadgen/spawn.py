"""Start a child process with ``posix_spawn``, never ``fork``: :func:`spawn` and :class:`Spawned`.

Why not ``subprocess.Popen``: under Locust, gevent's ``Popen`` really forks the load
generator, and ``fork`` runs gRPC's fork handlers in the child. Once the process has used
gRPC (a load run, a trial), those handlers abort the child now and then before it reaches
``exec`` -- measured: 2 of 5 Flow restarts after an in-process trial died with SIGABRT and
``Epoll1Poller ... epoll_wait error: Bad file descriptor`` as their only log line.
glibc's ``posix_spawn`` (``CLONE_VM | CLONE_VFORK``) runs no fork handlers.

``posix_spawn`` has no working-directory action before Python 3.13's ``POSIX_SPAWN_CHDIR``
is common: the child is a tiny Python that changes directory, then ``exec``s the command.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

TRAMPOLINE = "import os, sys; os.chdir(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])"
POLL_S = 0.05


class Spawned:
    """The child's ``pid``, and ``poll``/``wait``/``returncode`` as ``subprocess.Popen`` has them."""

    def __init__(self, pid: int, args: Sequence[str]):
        self.pid, self.args = pid, list(args)
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        """The exit code (negative: killed by that signal), None while it runs."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                # Reaped by someone else (gevent's SIGCHLD watcher reaps every child): it has
                # exited, with a status nobody can tell any more.
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL, unless it has exited already."""
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def wait(self, timeout: Optional[float] = None) -> int:
        """Wait for the exit (polling; cooperative under gevent). :raises subprocess.TimeoutExpired:"""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(POLL_S)
        return self.returncode


def spawn(argv: Sequence[str], *, python: Path, cwd: Path, env: Mapping[str, str], log_path: Path) -> Spawned:
    """Start ``argv`` (``argv[0]`` a path) in ``cwd`` in a new session, stdin from /dev/null,
    stdout and stderr into ``log_path`` (a new file); ``python`` runs the trampoline.
    :raises OSError: when the trampoline cannot be started."""
    with open(log_path, "wb") as log:
        return spawn_into(argv, python=python, cwd=cwd, env=env, out_fd=log.fileno(), new_session=True)


def spawn_into(argv: Sequence[str], *, python: Path, cwd: Path, env: Mapping[str, str], out_fd: int,
               new_session: bool = False) -> Spawned:
    """Start ``argv`` (``argv[0]`` a path) in ``cwd``, stdin from /dev/null, stdout and stderr
    into the open file descriptor ``out_fd`` (e.g. a log shared with the caller); in a session
    of its own with ``new_session``. :raises OSError: when the trampoline cannot be started."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, out_fd, 1), (os.POSIX_SPAWN_DUP2, out_fd, 2)]
    args = [str(python), "-c", TRAMPOLINE, str(cwd), *map(str, argv)]
    pid = os.posix_spawn(str(python), args, dict(env), file_actions=actions, setsid=new_session)
    return Spawned(pid, argv)
