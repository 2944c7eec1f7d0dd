"""deploy/: the Kubernetes base renders with `kubectl kustomize` and validates strictly
offline; what it runs is a command the bot has; the Dockerfile copies only what exists."""

import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

from bot.cli import _parser
from tests.conftest import ROOT

K8S = ROOT / "deploy" / "k8s"


def rendered() -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (it renders the kustomize base)")
    out = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_the_base_renders_and_validates_strictly():
    documents = rendered()
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(),
                                     strict=True)


def test_the_cronjob_runs_recheck_as_non_root_on_a_read_only_filesystem():
    jobs = [d for d in rendered() if d["kind"] == "CronJob"]
    assert [j["metadata"]["name"] for j in jobs] == ["ptf-bot-recheck"]
    pod = jobs[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["python", "-m", "bot", "recheck"]
    commands = _parser()._subparsers._group_actions[0].choices  # the CLI's own commands
    assert "recheck" in commands
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert jobs[0]["spec"]["concurrencyPolicy"] == "Forbid"


def test_the_dockerfile_copies_only_files_that_exist():
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    sources = [part for line in text.splitlines()
               if (m := re.match(r"^COPY\s+(?!--from)(.+)\s+\S+$", line.strip()))
               for part in m.group(1).split()]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source


def _by_kind(documents: list[dict]) -> dict[str, dict]:
    return {d["kind"]: d for d in documents}


def _setting_names() -> set[str]:
    from bot.config import Settings

    return {name.upper() for name in Settings.model_fields} | {"PROMETHEUS_MULTIPROC_DIR",
                                                                "MPLCONFIGDIR"}


def test_the_server_runs_two_or_more_replicas_safely():
    from bot.slack.server import EVENTS_PATH

    kinds = _by_kind(rendered())
    deployment, service = kinds["Deployment"], kinds["Service"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    spec = pod["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    commands = _parser()._subparsers._group_actions[0].choices
    [init] = spec["initContainers"]
    assert init["command"][:3] == ["python", "-m", "bot"] and init["command"][3:] == [
        "db", "upgrade"] and "db" in commands
    [server] = spec["containers"]
    assert server["command"] == ["python", "-m", "bot", "serve"] and "serve" in commands
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for container in (init, server):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    # every variable it sets is a setting; the metrics directory is a mounted volume
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env.keys() <= _setting_names()
    mounts = {m["mountPath"] for m in server["volumeMounts"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"] in mounts and "/tmp" in mounts
    config = kinds["ConfigMap"]
    assert config["data"].keys() <= _setting_names()
    assert config["data"]["BOT_RECHECK_EVERY_HOURS"] == "0"  # the CronJob rechecks
    sources = {next(iter(s.values()))["name"] for s in server["envFrom"]}
    assert sources == {config["metadata"]["name"], "ptf-bot"}
    # the Service, the Ingress, the PDB and the HPA all point at these pods
    assert service["spec"]["selector"].items() <= labels.items()
    port_names = {p["name"] for p in server["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    [rule] = kinds["Ingress"]["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert EVENTS_PATH.startswith(path["path"]) and path["pathType"] == "Prefix"
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    pdb, hpa = kinds["PodDisruptionBudget"], kinds["HorizontalPodAutoscaler"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2


def test_the_example_secret_is_valid_and_holds_settings_only():
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    kubernetes_validate.validate(secret, kubernetes_validate.latest_version(), strict=True)
    assert secret["metadata"]["name"] == "ptf-bot"
    assert secret["stringData"].keys() <= _setting_names()
    assert secret["stringData"]["DATABASE_URL"].startswith("postgresql://")
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "secret.example.yaml" not in kustomization["resources"]  # never applied over yours
