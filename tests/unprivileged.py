"""
Run the project as a user other than root, as a container's user would.

When the tests run as root, commands run as `nobody` through setpriv, with a
Python that user can execute. This interpreter may live in root's home
(/root/.pyenv, mode 700), so a virtual environment is made from an interpreter
of the same version that `nobody` can run (Debian's /usr/bin/python3.11, say)
in a world-readable directory, and this environment's packages are copied in.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.processes import clean_env

# Packages the app never imports at run time; not worth copying.
NOT_COPIED = shutil.ignore_patterns("pip", "pip-*", "setuptools", "setuptools-*")


class Unavailable(Exception):
    """No non-root user can run the project here; the message says why."""


@dataclass(frozen=True)
class User:
    uid: int
    gid: int
    python: Path  # an interpreter this user can run, with the project's packages
    prefix: tuple[str, ...] = ()  # runs a command as this user

    def command(self, *argv: str | os.PathLike) -> list[str]:
        return [*self.prefix, *map(str, argv)]

    def env(self, home: Path, **variables: str) -> dict[str, str]:
        """Return a clean environment whose `python` is this user's."""
        path = os.pathsep.join([str(self.python.parent), "/usr/bin", "/bin"])
        return clean_env(**variables) | {"PATH": path, "HOME": str(home)}

    def give(self, path: Path) -> Path:
        """Make path this user's, as a container runtime does with a volume."""
        os.chown(path, self.uid, self.gid)
        return path


def shared_directory() -> Path:
    """Make a temporary directory that every user can read and enter."""
    path = Path(tempfile.mkdtemp(prefix="fastopp-"))
    path.chmod(0o755)
    return path


def share(tree: Path) -> Path:
    """Let every user read tree's files and enter its directories."""
    for directory, _, files in os.walk(tree):
        os.chmod(directory, os.stat(directory).st_mode | 0o555)
        for name in files:
            file = os.path.join(directory, name)
            os.chmod(file, os.stat(file).st_mode | 0o444)
    return tree


def unprivileged_user(workdir: Path) -> User:
    """Return a non-root user that can run the project, or raise Unavailable."""
    if os.geteuid() != 0:
        return User(os.getuid(), os.getgid(), Path(sys.executable))
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError as exc:
        raise Unavailable("there is no user 'nobody' to run as") from exc
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise Unavailable("setpriv (util-linux) is not installed")
    prefix = (
        setpriv,
        f"--reuid={nobody.pw_uid}",
        f"--regid={nobody.pw_gid}",
        "--clear-groups",
        "--",
    )
    base = _interpreter_for(prefix)
    python = _virtual_environment(base, workdir / "venv")
    user = User(nobody.pw_uid, nobody.pw_gid, python, prefix)
    result = _run_as(prefix, python, "import django, gunicorn, PIL")
    if result.returncode != 0:
        raise Unavailable(
            f"nobody cannot import the project's packages: {result.stderr}"
        )
    return user


def _interpreter_for(prefix: tuple[str, ...]) -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [
        os.path.realpath(sys.executable),
        os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
        f"/usr/bin/python{version}",
        f"/usr/local/bin/python{version}",
    ]
    for candidate in dict.fromkeys(candidates):
        if not os.path.exists(candidate):
            continue
        result = _run_as(prefix, candidate, "import sys; print(*sys.version_info[:2])")
        if result.returncode == 0 and result.stdout.split() == version.split("."):
            return candidate
    raise Unavailable(
        f"no Python {version} that nobody may run (tried {', '.join(candidates)}); "
        f"install one, such as Debian's python{version}"
    )


def _run_as(
    prefix: tuple[str, ...], python: str | Path, code: str
) -> subprocess.CompletedProcess:
    # Through a shell that already runs as the user, as a start script would:
    # setpriv itself may exec a binary the user could not reach. Python 3.11
    # imports its first modules frozen, so also import one from the disk.
    return subprocess.run(
        [*prefix, "/bin/sh", "-c", 'exec "$0" -c "import json; $1"', python, code],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _virtual_environment(base: str, target: Path) -> Path:
    subprocess.run(
        [base, "-m", "venv", "--without-pip", str(target)], check=True, timeout=60
    )
    python = target / "bin" / "python"
    packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    shutil.copytree(
        sysconfig.get_path("purelib"),
        packages,
        ignore=NOT_COPIED,
        dirs_exist_ok=True,
        copy_function=_link_or_copy,
    )
    share(target)
    return python


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
