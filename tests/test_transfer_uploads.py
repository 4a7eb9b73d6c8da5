"""
transfer_uploads between the local disk and an S3 bucket (moto's real
server, requests counted there): copied, verified, resumable, never
overwriting a different file unless asked, never touching the source.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_registrant, make_upload
from tests.processes import PROJECT_DIR, clean_env
from tests.s3 import MotoServer, environment
from webinars import files, services
from webinars.transfer import open_side

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3, request):
    return s3.create_bucket(f"transfer-{abs(hash(request.node.name)) % 10**8}")


@pytest.fixture
def bucket_env(s3, bucket, tmp_path):
    """A dotenv file that names the bucket, as --from-env and --to-env read it."""
    path = tmp_path / "bucket.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in environment(s3, bucket).items()))
    return path


def transfer(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("transfer_uploads", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def bucket_contents(s3, bucket) -> dict[str, bytes]:
    client = s3.client()
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in listed
    }


def disk_contents(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def puts(requests) -> list[str]:
    return [path for method, path, status in requests if method == "PUT"]


def two_registrants_with_photos():
    make_registrant(photo=make_upload(color="red"))
    make_registrant(email="grace@example.com", photo=make_upload(color="blue"))
    return services.referred_file_names()


def test_local_to_s3_copies_every_referred_file_verified_and_back(
    s3, bucket, bucket_env, upload_dir, tmp_path
):
    names = two_registrants_with_photos()
    (upload_dir / "photos" / "stray.txt").write_text("not referred")
    before = disk_contents(upload_dir)

    with s3.counting() as made:
        code, output = transfer(
            "--from", "local", "--to", "s3", "--to-env", str(bucket_env)
        )

    assert code == 0, output
    assert len(names) == 6  # two photos with two thumbnails each
    copied = bucket_contents(s3, bucket)
    assert copied == {name: before[name] for name in names}
    assert len(puts(made)) == 6
    assert "6 file(s) copied" in output
    assert disk_contents(upload_dir) == before  # the source is untouched
    head = s3.client().head_object(Bucket=bucket, Key=names[0])
    assert head["Metadata"]["sha256"] == hashlib.sha256(before[names[0]]).hexdigest()

    back = tmp_path / "back"
    back.mkdir()
    code, output = transfer(
        "--from", "s3", "--from-env", str(bucket_env), "--to", str(back)
    )
    assert code == 0, output
    assert disk_contents(back) == copied


def test_a_second_run_copies_nothing_and_only_checks(s3, bucket, bucket_env):
    two_registrants_with_photos()
    assert (
        transfer("--from", "local", "--to", "s3", "--to-env", str(bucket_env))[0] == 0
    )

    with s3.counting() as made:
        code, output = transfer(
            "--from", "local", "--to", "s3", "--to-env", str(bucket_env)
        )

    assert code == 0, output
    assert puts(made) == []
    assert "0 file(s) copied" in output and "6 already there" in output


def test_all_adds_the_unreferred_files_of_the_served_directories(
    s3, bucket, bucket_env, upload_dir
):
    two_registrants_with_photos()
    (upload_dir / "photos" / "stray.txt").write_text("not referred")

    code, output = transfer(
        "--from", "local", "--to", "s3", "--to-env", str(bucket_env), "--all"
    )

    assert code == 0, output
    assert bucket_contents(s3, bucket)["photos/stray.txt"] == b"not referred"


def test_a_mismatching_object_is_reported_and_never_overwritten(
    s3, bucket, bucket_env, upload_dir
):
    names = two_registrants_with_photos()
    planted = names[0]
    s3.client().put_object(Bucket=bucket, Key=planted, Body=b"someone else's file")

    code, output = transfer(
        "--from", "local", "--to", "s3", "--to-env", str(bucket_env)
    )

    assert code == 1
    assert f"conflict  {planted}: the destination already holds a different" in output
    contents = bucket_contents(s3, bucket)
    assert contents[planted] == b"someone else's file"
    assert len(contents) == 6  # every other file was copied

    code, output = transfer(
        "--from",
        "local",
        "--to",
        "s3",
        "--to-env",
        str(bucket_env),
        "--overwrite-mismatched",
    )
    assert code == 0, output
    assert bucket_contents(s3, bucket)[planted] == (upload_dir / planted).read_bytes()


def test_dry_run_writes_nothing_and_counts_conflicts(s3, bucket, bucket_env):
    names = two_registrants_with_photos()
    s3.client().put_object(Bucket=bucket, Key=names[0], Body=b"different")

    with s3.counting() as made:
        code, output = transfer(
            "--from", "local", "--to", "s3", "--to-env", str(bucket_env), "--dry-run"
        )

    assert code == 1
    assert "5 file(s) would be copied" in output and "1 conflict(s)" in output
    assert puts(made) == []
    assert set(bucket_contents(s3, bucket)) == {names[0]}


def test_a_missing_source_file_is_listed_and_fails_the_run(s3, bucket_env, upload_dir):
    names = two_registrants_with_photos()
    (upload_dir / names[0]).unlink()

    code, output = transfer(
        "--from", "local", "--to", "s3", "--to-env", str(bucket_env)
    )

    assert code == 1
    assert f"missing   {names[0]}: is not in the source" in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "local", "--to", "local"], "are the same"),
        (["--from", "local", "--to", "/nowhere/at/all"], "nor an existing directory"),
        (
            ["--from", "local", "--to", "s3", "--to-env", "/no/such.env"],
            "does not exist",
        ),
        (["--from", "local", "--to", "s3", "--jobs", "0"], "--jobs must be"),
    ],
)
def test_bad_configuration_exits_2_with_a_sentence(arguments, message, tmp_path):
    code, output = transfer(*arguments)
    assert code == 2
    assert message in output


def test_a_bucket_without_its_variables_exits_2(tmp_path):
    env_file = tmp_path / "empty.env"
    env_file.write_text("STORAGE_BACKEND=s3\n")
    code, output = transfer("--from", "local", "--to", "s3", "--to-env", str(env_file))
    assert code == 2
    assert "S3_BUCKET" in output


def run_command(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_killed_half_way_finishes_when_run_again_copying_nothing_twice(
    s3, bucket, tmp_path, stop
):
    source = tmp_path / "volume"
    (source / "photos").mkdir(parents=True)
    for number in range(120):
        (source / "photos" / f"{number:04d}.bin").write_bytes(
            f"photo {number} ".encode() * 500
        )
    before = disk_contents(source)
    env = clean_env(
        **environment(s3, bucket),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        UPLOAD_DIR=str(tmp_path / "app-uploads"),
    )
    migrate = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "manage.py"), "migrate", "-v0"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    command = ("transfer_uploads", "--from", str(source), "--to", "s3", "--all")

    with s3.counting() as made:
        baseline = len(s3.requests())
        first = run_command(*command, "--jobs", "1", env=env)
        deadline = time.monotonic() + 60
        while len(puts(s3.requests()[baseline:])) < 20 and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        first.send_signal(stop)
        first.communicate(timeout=30)
        copied_first = len(bucket_contents(s3, bucket))
        assert 20 <= copied_first < 120  # really stopped half way

        second = run_command(*command, "--jobs", "3", env=env)
        output, errors = second.communicate(timeout=120)

    assert second.returncode == 0, errors
    assert f"{120 - copied_first} file(s) copied" in output
    assert f"{copied_first} already there" in output
    # Every file stored exactly once; a PUT the kill cut off stored nothing.
    keys = [path for method, path, status in made if method == "PUT" and status == 200]
    assert len(keys) == 120 == len(set(keys))
    assert bucket_contents(s3, bucket) == before
    assert disk_contents(source) == before
    assert "transfer_uploads: 100 % (120/120)" in errors  # a line per 10 %
    assert errors.count("transfer_uploads:") == 10


def test_the_storage_api_reports_the_sha256_a_bucket_object_was_written_with(
    s3, bucket, bucket_env
):
    two_registrants_with_photos()
    transfer("--from", "local", "--to", "s3", "--to-env", str(bucket_env))
    side = open_side("s3", env_file=str(bucket_env))
    name = services.referred_file_names()[0]
    stat = side.storage.stat(name)
    assert stat.sha256 == hashlib.sha256(files.read_file(name)).hexdigest()
    assert stat.size == files.file_size(name)
