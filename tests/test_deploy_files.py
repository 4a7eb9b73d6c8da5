"""
The deployment files agree with the app: each one parses, and its UPLOAD_DIR
lies on a persistent mount that the same file declares, or the platform is
known to be ephemeral and documented as such.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.dockerfile import Dockerfile, dockerignore, ignored_by_docker
from tests.processes import PLAIN_HTTP, PROJECT_DIR

DOCKERFILE = Dockerfile.read()


def under(path: str, mount: str) -> bool:
    """Return whether an absolute container path lies at or below a mount point."""
    return PurePosixPath(mount) in (PurePosixPath(path), *PurePosixPath(path).parents)


def sqlite_path(database_url: str) -> str | None:
    return (
        database_url.removeprefix("sqlite:///")
        if database_url.startswith("sqlite:////")
        else None
    )


# Docker


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = Path(sys.executable).parent / "hadolint"

    result = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_image_is_slim_python_3_11():
    assert DOCKERFILE.all("FROM")[0].startswith("python:3.11-slim")


def test_dependencies_are_installed_in_a_layer_before_the_code_is_copied():
    requirements = DOCKERFILE.index("COPY", "requirements/runtime.txt")
    install = DOCKERFILE.index("RUN", "pip install --no-cache-dir -r requirements/")
    code = DOCKERFILE.index("COPY", ". .")

    assert requirements < install < code


def test_the_image_runs_as_a_numeric_non_root_user():
    uid, _, gid = DOCKERFILE.user.partition(":")

    assert int(uid) > 0 and int(gid) > 0  # numeric, so runAsNonRoot can verify it
    assert DOCKERFILE.env["APP_UID"] == uid


def test_static_files_are_collected_at_build_time_with_stand_in_secrets_only():
    step = DOCKERFILE.run_step("collectstatic")

    assert "DEBUG=false" in step and "SECRET_KEY=" in step and "ALLOWED_HOSTS=" in step
    assert "SECRET_KEY" not in DOCKERFILE.env
    assert DOCKERFILE.index("RUN", "collectstatic") > DOCKERFILE.index("COPY", ". .")


def test_the_image_keeps_uploads_and_its_sqlite_database_on_volumes():
    env = DOCKERFILE.env

    assert env["DEBUG"] == "false"
    assert env["UPLOAD_DIR"] == "/app/uploads"
    assert "/app/uploads" in DOCKERFILE.volumes
    assert any(under(sqlite_path(env["DATABASE_URL"]), v) for v in DOCKERFILE.volumes)


def test_the_image_exposes_port_and_checks_its_health_without_curl():
    assert DOCKERFILE.all("EXPOSE") == [DOCKERFILE.env["PORT"]]
    healthcheck = DOCKERFILE.healthcheck
    assert healthcheck[:2] == ["python", "-c"]
    assert "/healthz" in healthcheck[2]


def test_the_start_command_is_the_committed_script_running_gunicorn_conf():
    (start,) = DOCKERFILE.cmd
    script = PROJECT_DIR / PurePosixPath(start).relative_to(DOCKERFILE.workdir)

    assert script.stat().st_mode & 0o111
    assert "exec python -m gunicorn --config gunicorn.conf.py" in script.read_text()


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "gunicorn.conf.py",
        "fastopp/settings.py",
        "webinars/files.py",
        "templates/base.html",
        "static/css/site.css",
        "requirements/runtime.txt",
        "deploy/start.sh",
    ],
)
def test_the_build_context_has_what_the_image_needs(path):
    assert not ignored_by_docker(path, dockerignore())


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".git/config",
        ".venv/bin/python",
        "db.sqlite3",
        "static/uploads/photos/ada.jpg",
        "uploads/photos/ada.jpg",
        "staticfiles/admin/css/base.css",
        "webinars/__pycache__/media.cpython-311.pyc",
    ],
)
def test_the_build_context_leaves_out_secrets_data_and_generated_files(path):
    assert ignored_by_docker(path, dockerignore())


# Docker Compose


def read_yaml(name: str) -> list[dict]:
    return list(yaml.safe_load_all((PROJECT_DIR / name).read_text()))


def test_compose_keeps_uploads_and_sqlite_on_host_directories():
    (compose,) = read_yaml("docker-compose.yml")
    web = compose["services"]["web"]
    mounts = dict(volume.rsplit(":", 1)[::-1] for volume in web["volumes"])
    database = sqlite_path(DOCKERFILE.env["DATABASE_URL"])  # the image's default

    assert web["environment"]["UPLOAD_DIR"] == "/app/uploads"
    assert mounts["/app/uploads"] == "./uploads"
    assert any(under(database, target) for target in mounts)
    assert all(source.startswith("./") for source in mounts.values())


def test_compose_runs_the_production_image_over_plain_http_on_loopback():
    (compose,) = read_yaml("docker-compose.yml")
    web = compose["services"]["web"]

    assert web["build"] == "."
    assert web["environment"]["DEBUG"] == "false"
    assert {name: web["environment"][name] for name in PLAIN_HTTP} == PLAIN_HTTP
    assert web["ports"] == ["127.0.0.1:8000:8000"]


def test_compose_reads_its_own_env_file_and_never_the_host_s_dot_env():
    (compose,) = read_yaml("docker-compose.yml")
    web = compose["services"]["web"]

    assert web["env_file"] == ".env.docker"
    # No ${...}: Compose would fill those in from the .env manage.py reads.
    assert not any("${" in str(value) for value in web["environment"].values())
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}.isdisjoint(
        web["environment"]
    )
    for ignore_file in (".gitignore", ".dockerignore"):
        assert ".env.docker" in (PROJECT_DIR / ignore_file).read_text().split()


def test_compose_offers_postgresql_with_a_healthcheck_the_app_waits_for():
    (compose,) = read_yaml("docker-compose.yml")
    db = compose["services"]["db"]

    assert db["profiles"] == ["postgres"]
    assert "pg_isready" in db["healthcheck"]["test"][1]
    assert compose["services"]["web"]["depends_on"]["db"] == {
        "condition": "service_healthy",
        "required": False,
    }
    assert db["volumes"][0].split(":")[0] in compose["volumes"]


# Fly.io


def read_json(name: str) -> dict:
    return json.loads((PROJECT_DIR / name).read_text())


def test_fly_keeps_uploads_and_sqlite_on_its_volume():
    fly = tomllib.loads((PROJECT_DIR / "fly.toml").read_text())
    (mount,) = fly["mounts"]
    env = fly["env"]

    assert (mount["source"], mount["destination"]) == ("data", "/data")
    assert env["UPLOAD_DIR"] == "/data/uploads"
    assert under(env["UPLOAD_DIR"], mount["destination"])
    assert under(sqlite_path(env["DATABASE_URL"]), mount["destination"])
    # Release machines mount no volume: SQLite there is migrated at start.
    assert env["MIGRATE_ON_START"] == "true"
    assert "release_command" not in fly["deploy"]


def test_fly_starts_as_root_to_hand_its_root_owned_volume_to_the_app_user():
    fly = tomllib.loads((PROJECT_DIR / "fly.toml").read_text())

    assert fly["build"]["args"] == {"START_AS": "root"}
    assert "START_AS" in DOCKERFILE.args


def test_fly_routes_https_to_the_image_port_and_checks_readyz():
    fly = tomllib.loads((PROJECT_DIR / "fly.toml").read_text())
    service = fly["http_service"]

    assert str(service["internal_port"]) == fly["env"]["PORT"]
    assert service["force_https"] is True
    assert [check["path"] for check in service["checks"]] == ["/readyz"]


# Kubernetes


def k8s(kind: str, name: str | None = None) -> dict:
    """The one resource of kind (and name) in deploy/k8s's kustomization."""
    kustomization = read_yaml("deploy/k8s/kustomization.yaml")[0]
    documents = [
        document
        for resource in kustomization["resources"]
        for document in read_yaml(f"deploy/k8s/{resource}")
    ]
    if kind == "Deployment" and name is None:
        name = "fastopp"  # the web pods; the worker is fastopp-worker
    (found,) = [
        document
        for document in documents
        if document["kind"] == kind
        and (name is None or document["metadata"]["name"] == name)
    ]
    return found


def test_kubernetes_keeps_uploads_on_the_persistent_volume_claim():
    pod = k8s("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    claims = {
        volume["name"]: volume["persistentVolumeClaim"]["claimName"]
        for volume in pod["volumes"]
        if "persistentVolumeClaim" in volume
    }
    (mount,) = [
        mount
        for mount in container["volumeMounts"]
        if under(env["UPLOAD_DIR"], mount["mountPath"])
    ]

    assert env["UPLOAD_DIR"] == "/persistent/uploads"
    assert claims[mount["name"]] == k8s("PersistentVolumeClaim")["metadata"]["name"]
    assert claims[mount["name"]] == "uploads-pvc"
    assert under(sqlite_path(env["DATABASE_URL"]), mount["mountPath"])


def test_kubernetes_lets_the_image_user_write_the_volume():
    security = k8s("Deployment")["spec"]["template"]["spec"]["securityContext"]

    assert security["runAsNonRoot"] is True
    assert str(security["runAsUser"]) == DOCKERFILE.env["APP_UID"]
    assert str(security["fsGroup"]) == DOCKERFILE.env["APP_GID"]


def test_kubernetes_runs_one_pod_at_a_time_on_a_read_write_once_volume():
    deployment = k8s("Deployment")

    assert k8s("PersistentVolumeClaim")["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"


def test_kubernetes_probes_readyz_and_healthz_on_the_image_port():
    (container,) = k8s("Deployment")["spec"]["template"]["spec"]["containers"]
    (port,) = container["ports"]
    service = k8s("Service")

    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert (port["name"], str(port["containerPort"])) == (
        "http",
        DOCKERFILE.env["PORT"],
    )
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert (
        service["spec"]["selector"]
        == k8s("Deployment")["spec"]["selector"]["matchLabels"]
    )


# AWS ECS on Fargate


def test_ecs_mounts_efs_at_upload_dir_and_checks_healthz():
    task = read_json("deploy/ecs/task-definition.json")
    (container,) = task["containerDefinitions"]
    env = {pair["name"]: pair["value"] for pair in container["environment"]}
    volumes = {volume["name"]: volume for volume in task["volumes"]}
    (mount,) = [
        mount
        for mount in container["mountPoints"]
        if under(env["UPLOAD_DIR"], mount["containerPath"])
    ]

    assert env["UPLOAD_DIR"] == "/efs/uploads" == mount["containerPath"]
    assert mount["readOnly"] is False
    assert "efsVolumeConfiguration" in volumes[mount["sourceVolume"]]
    assert "/healthz" in container["healthCheck"]["command"][-1]
    assert container["logConfiguration"]["logDriver"] == "awslogs"


def test_ecs_keeps_secrets_out_of_the_task_definition():
    (container,) = read_json("deploy/ecs/task-definition.json")["containerDefinitions"]

    assert {secret["name"] for secret in container["secrets"]} == {
        "SECRET_KEY",
        "DATABASE_URL",
    }
    assert not {"SECRET_KEY", "DATABASE_URL"} & {
        e["name"] for e in container["environment"]
    }


# Ephemeral platforms: Heroku and Cloud Run


def test_heroku_releases_with_migrate_and_serves_with_gunicorn_conf():
    processes = dict(
        line.split(": ", 1)
        for line in (PROJECT_DIR / "Procfile").read_text().splitlines()
    )

    assert processes == {
        "release": "python manage.py migrate --no-input",
        "web": "gunicorn --config gunicorn.conf.py fastopp.wsgi",
        "worker": WORKER_COMMAND,
    }


def test_heroku_is_declared_ephemeral_in_app_json_and_the_docs():
    app = read_json("app.json")
    upload_dir = app["env"]["UPLOAD_DIR"]
    guide = (PROJECT_DIR / "docs/deployment/heroku.md").read_text()

    assert upload_dir["value"].startswith("/tmp/")
    assert "ephemeral" in upload_dir["description"].lower()
    assert "ephemeral" in app["description"].lower()
    assert app["env"]["SECRET_KEY"]["generator"] == "secret"
    assert "ephemeral" in guide.lower() and "object storage" in guide.lower()


def test_app_json_trusts_only_the_app_s_own_host_and_origin():
    env = read_json("app.json")["env"]

    for name in ("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
        assert env[name]["required"] is True
        assert "value" not in env[name]  # asked for, not a platform wildcard
        assert "my-fastopp.herokuapp.com" in env[name]["description"]


def test_cloud_run_is_declared_ephemeral_and_probes_the_app():
    (service,) = read_yaml("deploy/cloudrun/service.yaml")
    spec = service["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    text = (PROJECT_DIR / "deploy/cloudrun/service.yaml").read_text()
    guide = (PROJECT_DIR / "docs/deployment/cloud-run.md").read_text()

    assert env["UPLOAD_DIR"] == "/tmp/uploads"
    assert "volumeMounts" not in container and "volumes" not in spec
    assert "EPHEMERAL UPLOADS" in text
    assert "gcsfuse.run.googleapis.com" in text  # the persistent alternative
    assert "ephemeral" in guide.lower() and "Cloud Storage" in guide
    assert container["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


# The guides


GUIDE_OUTLINE = [
    "Configuration",
    "Volume",
    "First deploy",
    "Verifying uploads survive a restart",
    "Troubleshooting",
]
GUIDES = sorted((PROJECT_DIR / "docs" / "deployment").glob("*.md"))


@pytest.mark.parametrize(
    "guide", [g for g in GUIDES if g.name != "README.md"], ids=lambda g: g.name
)
def test_every_deployment_guide_follows_the_same_outline(guide):
    headings = re.findall(r"^## (.+)$", guide.read_text(), flags=re.MULTILINE)

    assert headings == GUIDE_OUTLINE


def test_there_is_one_guide_per_target():
    assert {guide.stem for guide in GUIDES} == {
        "README",
        "local",
        "docker",
        "fly",
        "kubernetes",
        "heroku",
        "ecs",
        "cloud-run",
    }


def variables_read_by_the_code() -> set[str]:
    settings = (PROJECT_DIR / "fastopp/settings.py").read_text()
    gunicorn = (PROJECT_DIR / "gunicorn.conf.py").read_text()
    start = (PROJECT_DIR / "deploy/start.sh").read_text()
    checks = (PROJECT_DIR / "webinars/checks.py").read_text()
    return (
        set(re.findall(r'env\.\w+\(\s*"(\w+)"', settings))
        | set(re.findall(r'os\.environ\.get\("(\w+)"', gunicorn))
        | set(re.findall(r"\$\{(\w+)", start))
        | set(re.findall(r'"(\w+)" in os\.environ', checks))
    )


def variables_set_by_the_deployment_files() -> set[str]:
    (compose,) = read_yaml("docker-compose.yml")
    (cloud_run,) = read_yaml("deploy/cloudrun/service.yaml")
    (ecs,) = read_json("deploy/ecs/task-definition.json")["containerDefinitions"]
    (k8s_container,) = k8s("Deployment")["spec"]["template"]["spec"]["containers"]
    (run_container,) = cloud_run["spec"]["template"]["spec"]["containers"]
    return (
        set(DOCKERFILE.env)
        | set(compose["services"]["web"]["environment"])
        | set(tomllib.loads((PROJECT_DIR / "fly.toml").read_text())["env"])
        | {variable["name"] for variable in k8s_container["env"]}
        | {variable["name"] for variable in ecs["environment"] + ecs["secrets"]}
        | {variable["name"] for variable in run_container["env"]}
        | set(read_json("app.json")["env"])
    )


def test_configuration_documents_every_variable_the_app_reads_or_deploys_set():
    documented = (PROJECT_DIR / "docs/configuration.md").read_text()
    # Python's and pip's own, set in the image for the interpreter, not the app.
    variables = {
        name
        for name in variables_read_by_the_code()
        | variables_set_by_the_deployment_files()
        if not name.startswith(("PYTHON", "PIP_"))
    }

    assert {
        "UPLOAD_DIR",
        "MIGRATE_ON_START",
        "SECURE_SSL_REDIRECT",
        "DYNO",
    } <= variables
    assert sorted(name for name in variables if f"`{name}`" not in documented) == []


def test_compose_offers_a_clamav_service_the_app_scans_with():
    (compose,) = read_yaml("docker-compose.yml")
    clamav, web = compose["services"]["clamav"], compose["services"]["web"]

    assert clamav["profiles"] == ["scan"]
    assert clamav["volumes"][0].split(":")[0] in compose["volumes"]
    assert web["environment"]["CLAMD_ADDRESS"] == "tcp://clamav:3310"
    # Turned on in .env.docker (env_file), which "environment" would override.
    assert "UPLOAD_SCAN" not in web["environment"]
    assert web["env_file"] == ".env.docker"
    assert web["depends_on"]["clamav"] == {
        "condition": "service_healthy",
        "required": False,
    }


# The task worker: one command everywhere, the web process's environment


WORKER_COMMAND = "python manage.py tasks_worker"
WORKER_GUIDES = [g for g in GUIDES if g.name != "README.md"]


def worker_commands() -> dict[str, str]:
    """Every worker entry of the deployment files, by file, as a command line."""
    (compose,) = read_yaml("docker-compose.yml")
    procfile = dict(
        line.split(": ", 1)
        for line in (PROJECT_DIR / "Procfile").read_text().splitlines()
    )
    (worker,) = k8s("Deployment", "fastopp-worker")["spec"]["template"]["spec"][
        "containers"
    ]
    # fly.toml's [processes] stays commented while the volume holds the data.
    (fly,) = re.findall(
        r'^#\s+worker = "([^"]+)"$',
        (PROJECT_DIR / "fly.toml").read_text(),
        flags=re.MULTILINE,
    )
    return {
        "Procfile": procfile["worker"],
        "docker-compose.yml": " ".join(compose["services"]["worker"]["command"]),
        "deploy/k8s/worker.yaml": " ".join(worker["command"]),
        "fly.toml": fly,
    }


def test_every_worker_entry_runs_the_same_command():
    assert set(worker_commands().values()) == {WORKER_COMMAND}


def test_the_worker_command_exists_and_needs_a_queueing_backend():
    from django.core.management import get_commands

    assert get_commands()["tasks_worker"] == "webinars"


def test_compose_runs_the_worker_with_the_web_service_s_env_and_volumes():
    (compose,) = read_yaml("docker-compose.yml")
    web, worker = compose["services"]["web"], compose["services"]["worker"]

    assert worker["image"] == web["image"]
    assert worker["env_file"] == web["env_file"] == ".env.docker"
    assert worker["environment"] == web["environment"]
    assert worker["volumes"] == web["volumes"]
    assert worker["profiles"] == ["worker"]
    # Not before web has migrated (its start command does, then gunicorn).
    assert worker["depends_on"]["web"] == {"condition": "service_healthy"}
    # TASKS_BACKEND comes from .env.docker, which "environment" would override.
    assert "TASKS_BACKEND" not in web["environment"]


def test_compose_offers_redis_for_the_rq_backend():
    (compose,) = read_yaml("docker-compose.yml")
    redis = compose["services"]["redis"]

    assert redis["profiles"] == ["redis"]
    assert "redis-cli" in redis["healthcheck"]["test"]
    assert redis["volumes"][0].split(":")[0] in compose["volumes"]
    for service in ("web", "worker"):
        assert compose["services"][service]["depends_on"]["redis"] == {
            "condition": "service_healthy",
            "required": False,
        }
    assert (
        "REDIS_URL=redis://redis:6379/0"
        in (PROJECT_DIR / "docker-compose.yml").read_text()
    )


def test_kubernetes_runs_the_worker_with_the_web_pod_s_env_and_volume():
    web = k8s("Deployment")["spec"]["template"]["spec"]
    worker = k8s("Deployment", "fastopp-worker")["spec"]["template"]["spec"]
    (web_container,) = web["containers"]
    (worker_container,) = worker["containers"]
    env = {variable["name"]: variable.get("value") for variable in web_container["env"]}

    assert worker_container["env"] == web_container["env"]
    assert env["TASKS_BACKEND"] == "database"
    assert worker_container["volumeMounts"] == web_container["volumeMounts"]
    assert worker["volumes"] == web["volumes"]
    assert worker["securityContext"] == web["securityContext"]
    assert worker_container["image"] == web_container["image"]


def test_kubernetes_keeps_the_worker_on_the_web_pod_s_node_and_out_of_the_service():
    web = k8s("Deployment")
    worker = k8s("Deployment", "fastopp-worker")
    service = k8s("Service")

    # ReadWriteOnce: both pods mount uploads-pvc, so both go on one node.
    for pod in (web["spec"]["template"], worker["spec"]["template"]):
        (term,) = pod["spec"]["affinity"]["podAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert term["labelSelector"]["matchLabels"].items() <= (
            pod["metadata"]["labels"].items()
        )
    assert worker["spec"]["replicas"] == 1
    assert worker["spec"]["strategy"]["type"] == "Recreate"
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= labels.items()


def test_the_bucket_overlay_changes_the_worker_as_it_changes_the_web_pods():
    overlay = read_yaml("deploy/k8s/bucket/kustomization.yaml")[0]
    (web_patch,) = read_yaml("deploy/k8s/bucket/deployment-patch.yaml")
    (worker_patch,) = read_yaml("deploy/k8s/bucket/worker-patch.yaml")
    web, worker = web_patch["spec"]["template"], worker_patch["spec"]["template"]
    (web_container,) = web["spec"]["containers"]
    (worker_container,) = worker["spec"]["containers"]

    assert "../worker.yaml" in overlay["resources"]
    assert {"path": "worker-patch.yaml"} in overlay["patches"]
    assert worker_container["env"] == web_container["env"]
    assert worker_container["volumeMounts"] == web_container["volumeMounts"]
    assert worker["spec"]["volumes"] == web["spec"]["volumes"]
    for pod in (web, worker):  # no shared volume: no reason to share a node
        assert pod["spec"]["affinity"] is None
        assert pod["spec"]["serviceAccountName"] == "fastopp"


KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
@pytest.mark.parametrize("overlay", ["deploy/k8s", "deploy/k8s/bucket"])
def test_kustomize_renders_the_worker_with_the_web_pods_environment(overlay):
    # The bucket overlay names files of its parent: kustomize's default load
    # restrictor refuses that (kubectl apply -k too); the guide says so.
    result = subprocess.run(
        [KUBECTL, "kustomize", "--load-restrictor", "LoadRestrictionsNone", overlay],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    deployments = {
        document["metadata"]["name"]: document["spec"]["template"]["spec"]
        for document in yaml.safe_load_all(result.stdout)
        if document["kind"] == "Deployment"
    }
    (web,) = deployments["fastopp"]["containers"]
    (worker,) = deployments["fastopp-worker"]["containers"]

    assert sorted(worker["env"], key=lambda v: v["name"]) == sorted(
        web["env"], key=lambda v: v["name"]
    )
    assert worker.get("volumeMounts") == web.get("volumeMounts")
    assert " ".join(worker["command"]) == WORKER_COMMAND


def test_heroku_runs_a_worker_dyno_with_the_database_backend():
    app = read_json("app.json")

    assert app["formation"]["worker"]["quantity"] == 1
    assert app["env"]["TASKS_BACKEND"]["value"] == "database"


@pytest.mark.parametrize("guide", WORKER_GUIDES, ids=lambda g: g.name)
def test_every_guide_says_which_tasks_backend_to_use_and_how_its_worker_runs(guide):
    text = guide.read_text()

    assert "TASKS_BACKEND" in text
    assert "tasks_worker" in text
