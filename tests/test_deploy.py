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
