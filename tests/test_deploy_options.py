"""Optional deployment files: photos in a bucket (many replicas), and ClamAV."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
OVERLAY = PROJECT_DIR / "deploy" / "k8s" / "bucket"


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def env_of(container: dict) -> dict:
    return {variable["name"]: variable for variable in container.get("env", [])}


def test_the_kubernetes_overlay_runs_replicas_on_the_bucket_without_the_volume():
    (kustomization,) = documents(OVERLAY / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (OVERLAY / resource).exists(), resource
    assert "../pvc.yaml" not in kustomization["resources"]
    (patch,) = documents(OVERLAY / kustomization["patches"][0]["path"])
    spec = patch["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    env = env_of(container)

    assert spec["replicas"] > 1 and spec["strategy"]["type"] == "RollingUpdate"
    assert env["STORAGE_BACKEND"]["value"] == "s3"
    assert env["S3_BUCKET"]["value"]
    assert env["UPLOAD_DIR"] == {"name": "UPLOAD_DIR", "$patch": "delete"}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
    assert env["MIGRATE_ON_START"]["value"] == "false"
    assert spec["template"]["spec"]["volumes"] == [
        {"name": "uploads", "$patch": "delete"}
    ]
    assert "AWS_SECRET_ACCESS_KEY" not in env  # the service account's role


def test_the_kubernetes_overlay_migrates_once_in_a_job_with_the_same_settings():
    (job,) = documents(OVERLAY / "migrate-job.yaml")
    (account,) = documents(OVERLAY / "serviceaccount.yaml")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert container["command"][-2:] == ["migrate", "--no-input"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert "eks.amazonaws.com/role-arn" in account["metadata"]["annotations"]
    assert env_of(container)["STORAGE_BACKEND"]["value"] == "s3"


def test_the_ecs_bucket_task_uses_its_role_and_no_volume():
    task = json.loads(
        (PROJECT_DIR / "deploy/ecs/task-definition-bucket.json").read_text()
    )
    (container,) = task["containerDefinitions"]
    env = {variable["name"]: variable["value"] for variable in container["environment"]}

    assert task["taskRoleArn"]
    assert "volumes" not in task and "mountPoints" not in container
    assert env["STORAGE_BACKEND"] == "s3" and env["S3_BUCKET"]
    assert "UPLOAD_DIR" not in env
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & set(env)


def test_heroku_offers_the_bucket_variables():
    variables = json.loads((PROJECT_DIR / "app.json").read_text())["env"]

    assert variables["STORAGE_BACKEND"]["value"] == "local"
    assert {"S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(variables)
    assert all(not variables[name].get("value") for name in ("S3_BUCKET",))


def test_the_clamav_examples_serve_clamd_on_3310_with_room_for_the_database():
    import tomllib

    documents_ = documents(PROJECT_DIR / "deploy/k8s/clamav/clamav.yaml")
    deployment = next(d for d in documents_ if d["kind"] == "Deployment")
    service = next(d for d in documents_ if d["kind"] == "Service")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    fly = tomllib.loads((PROJECT_DIR / "deploy/fly/clamav.toml").read_text())

    assert container["ports"][0]["containerPort"] == 3310
    assert container["resources"]["limits"]["memory"] == "3Gi"
    assert service["spec"]["ports"][0]["port"] == 3310
    assert fly["services"][0]["internal_port"] == 3310
    assert fly["vm"][0]["memory"] == "3gb"
    assert fly["mounts"]["destination"] == "/var/lib/clamav"
