"""Static checks of the distributed deployment: docker-compose.yml, infra/Dockerfile and what they mount.

No Docker engine is needed: the files are parsed and cross-checked against each other and against the
settings classes (every SELENE_* variable must be a real setting).
"""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings import ALL_SETTINGS, env_name

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "infra" / "Dockerfile"
DATASOURCE_FILE = ROOT / "infra" / "grafana" / "provisioning" / "datasources" / "clickhouse.yaml"
DASHBOARD_PROVIDER_FILE = ROOT / "infra" / "grafana" / "provisioning" / "dashboards" / "selene.yaml"
CLICKHOUSE_USERS_FILE = ROOT / "infra" / "clickhouse" / "users.d" / "selene.xml"
PROMETHEUS_FILE = ROOT / "infra" / "prometheus" / "prometheus.yml"
PROMETHEUS_DATASOURCE_FILE = ROOT / "infra" / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
METRICS_DASHBOARD_FILE = ROOT / "infra" / "grafana" / "dashboards" / "prometheus" / "pipeline-metrics.json"

INFRA_SERVICES = {"kafka", "clickhouse", "milvus", "etcd", "minio", "redis", "grafana", "prometheus"}
SELENE_SERVICES = {"api", "sink", "worker", "video-agent", "tasks-worker"}
SCALABLE_SERVICES = {"worker", "video-agent", "tasks-worker"}
SUBCOMMANDS = {"api", "sink", "worker", "agent", "tasks-worker"}
REQUIRED_DEPENDENCIES = {
    "api": {"kafka", "redis", "clickhouse", "milvus"},
    "sink": {"kafka", "clickhouse"},
    "worker": {"kafka", "redis"},
    "video-agent": {"kafka", "redis", "api"},
    "tasks-worker": {"kafka", "redis", "clickhouse", "milvus"},
}
SELENE_VAR = re.compile(r"\bSELENE_[A-Z0-9_]+\b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), "compose file has no services"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _is_selene(service: dict[str, Any]) -> bool:
    build = service.get("build")
    return isinstance(build, dict) and build.get("dockerfile") == "infra/Dockerfile"


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {} for name in deps}
    return {name: (spec or {}) for name, spec in deps.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _published_ports(service: dict[str, Any]) -> list[str]:
    """Host ports a service binds, from the short ("8080:80", "127.0.0.1:8080:80") or long syntax."""
    published = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            if port.get("published") not in (None, ""):
                published.append(str(port["published"]))
        else:
            parts = str(port).split(":")
            if len(parts) >= 2 and parts[-2]:
                published.append(parts[-2])
    return published


def _bind_sources(service: dict[str, Any]) -> list[str]:
    sources = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                sources.append(str(volume["source"]))
        else:
            source = str(volume).split(":", 1)[0]
            if source.startswith((".", "/", "~")):
                sources.append(source)
    return sources


def _setting_names() -> set[str]:
    return {env_name(cls, field) for cls in ALL_SETTINGS for field in cls.model_fields}


def _dockerfile_instruction(name: str) -> list[str]:
    """The exec-form arguments of the last ``name`` instruction (ENTRYPOINT, CMD) of infra/Dockerfile."""
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    found = [line[len(name) :].strip() for line in lines if line.upper().startswith(name + " ")]
    assert found, f"infra/Dockerfile has no {name}"
    value = json.loads(found[-1])
    assert isinstance(value, list), f"infra/Dockerfile {name} is not in exec form: {found[-1]}"
    return value


def test_all_services_exist(services: dict[str, Any]) -> None:
    for name in sorted(INFRA_SERVICES | SELENE_SERVICES):
        assert name in services, f"service {name!r} is missing from docker-compose.yml"


def test_selene_services_are_built_from_the_one_dockerfile(services: dict[str, Any]) -> None:
    selene = {name for name, service in services.items() if _is_selene(service)}
    assert selene == SELENE_SERVICES, f"services built from infra/Dockerfile: {sorted(selene)}"
    for name in sorted(selene):
        service = services[name]
        assert service["build"].get("context") == ".", f"{name}: build context must be the repo root"
        assert service.get("image") == "selene:latest", f"{name}: image must be selene:latest"
        assert service.get("restart") == "unless-stopped", f"{name}: restart must be unless-stopped"


@pytest.mark.parametrize("name", sorted(SELENE_SERVICES))
def test_selene_service_environment(services: dict[str, Any], name: str) -> None:
    env = _environment(services[name])
    assert env, f"{name}: environment is empty"
    assert env.get("SELENE_KAFKA_BOOTSTRAP") == "kafka:9092", f"{name}: must use the compose Kafka"
    assert env.get("SELENE_KAFKA_EMBEDDED", "").lower() == "false", f"{name}: must not start a broker"
    assert env.get("SELENE_REDIS_EMBEDDED", "").lower() == "false", f"{name}: must not start redis"
    assert env.get("SELENE_CLICKHOUSE_BACKEND") == "server", f"{name}: must use the ClickHouse server"
    assert env.get("SELENE_MILVUS_URI", "").startswith("http://milvus:"), f"{name}: must use Milvus"


@pytest.mark.parametrize("name", sorted(SELENE_SERVICES))
def test_selene_service_depends_on_healthy_infrastructure(services: dict[str, Any], name: str) -> None:
    deps = _depends_on(services[name])
    assert deps, f"{name}: no depends_on"
    for dep, spec in deps.items():
        assert spec.get("condition") == "service_healthy", (
            f"{name}: depends_on {dep!r} must have condition service_healthy, got {spec.get('condition')!r}"
        )
    missing = REQUIRED_DEPENDENCIES[name] - set(deps)
    assert not missing, f"{name}: missing depends_on {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(SELENE_SERVICES))
def test_selene_service_healthcheck(services: dict[str, Any], name: str) -> None:
    healthcheck = services[name].get("healthcheck") or {}
    test = healthcheck.get("test")
    assert test and not healthcheck.get("disable"), f"{name}: healthcheck has no test command"
    assert test[0] != "NONE", f"{name}: healthcheck is disabled"
    subcommand = _command(services[name])[0]
    assert test == ["CMD", "selene", "healthcheck", subcommand], (
        f"{name}: healthcheck must be ['CMD', 'selene', 'healthcheck', {subcommand!r}], got {test}"
    )


@pytest.mark.parametrize("name", sorted(SCALABLE_SERVICES))
def test_scalable_services_have_no_fixed_name_or_host_port(services: dict[str, Any], name: str) -> None:
    service = services[name]
    assert "container_name" not in service, f"{name}: container_name prevents --scale"
    published = _published_ports(service)
    assert not published, f"{name}: fixed host ports {published} prevent --scale"


def test_selene_env_vars_are_real_settings(services: dict[str, Any]) -> None:
    settings = _setting_names()
    used = set(SELENE_VAR.findall(COMPOSE_FILE.read_text()))
    for name, service in services.items():
        used |= {key for key in _environment(service) if key.startswith("SELENE_")}
    assert used, "docker-compose.yml sets no SELENE_* variable"
    unknown = used - settings
    assert not unknown, f"SELENE_* variables that are not settings in infra/settings.py: {sorted(unknown)}"
    for name, service in services.items():
        bad = {key for key in _environment(service) if key.startswith("SELENE_")} - settings
        assert not bad, f"{name}: unknown settings {sorted(bad)}"


def test_dependencies_are_services_with_healthchecks(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dep in _depends_on(service):
            assert dep in services, f"{name}: depends_on {dep!r}, which is not a service"
            test = (services[dep].get("healthcheck") or {}).get("test")
            assert test, f"{name}: depends_on {dep!r}, which has no healthcheck"


def test_bind_mounted_paths_exist(services: dict[str, Any]) -> None:
    base = COMPOSE_FILE.parent
    for name, service in services.items():
        for source in _bind_sources(service):
            if source.startswith("./"):
                assert (base / source).exists(), f"{name}: bind-mounted {source} does not exist"
        build = service.get("build")
        if isinstance(build, dict):
            context = base / build.get("context", ".")
            assert context.is_dir(), f"{name}: build context {context} does not exist"
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":", 1)[0]
            kind = volume.get("type", "volume") if isinstance(volume, dict) else None
            if kind == "bind" or not source or source.startswith((".", "/", "~")):
                continue
            assert source in declared, f"{name}: named volume {source!r} is not declared under volumes:"
    for volume in ("kafka", "clickhouse", "etcd", "minio", "milvus", "redis", "grafana"):
        assert f"{volume}-data" in declared, f"volume {volume}-data is not declared"


def test_dockerfile_entrypoint_and_compose_commands(services: dict[str, Any]) -> None:
    assert _dockerfile_instruction("ENTRYPOINT") == ["selene"], "infra/Dockerfile ENTRYPOINT must be selene"
    default = _dockerfile_instruction("CMD")
    assert default and default[0] in SUBCOMMANDS, f"infra/Dockerfile CMD {default} is not a subcommand"
    commands = {}
    for name in sorted(SELENE_SERVICES):
        command = _command(services[name])
        assert command, f"{name}: no command"
        assert command[0] != "selene", f"{name}: the ENTRYPOINT is selene already; command is {command}"
        assert command[0] in SUBCOMMANDS, f"{name}: {command[0]!r} is not a selene subcommand"
        commands[name] = command[0]
    assert set(commands.values()) == SUBCOMMANDS, f"compose commands {commands} != {sorted(SUBCOMMANDS)}"


def test_api_listens_on_all_interfaces_without_sink(services: dict[str, Any]) -> None:
    env = _environment(services["api"])
    assert env.get("SELENE_API_HOST") == "0.0.0.0", "api: SELENE_API_HOST must be 0.0.0.0"
    assert env.get("SELENE_API_RUN_SINK", "").lower() == "false", "api: the sink runs as its own service"
    assert "8080" in _published_ports(services["api"]), "api: port 8080 is not published"


def test_grafana_datasource(services: dict[str, Any]) -> None:
    data = yaml.safe_load(DATASOURCE_FILE.read_text())
    sources = data.get("datasources") or []
    assert len(sources) == 1, f"{DATASOURCE_FILE.name}: expected one datasource, got {len(sources)}"
    source = sources[0]
    assert source["type"] == "grafana-clickhouse-datasource", f"datasource type is {source['type']!r}"
    assert source["uid"] == "selene-clickhouse" and source.get("isDefault") is True
    json_data = source["jsonData"]
    assert json_data["host"] == "clickhouse" and json_data["port"] == 9000, "datasource must reach clickhouse"
    assert json_data["protocol"] == "native"
    var = re.fullmatch(r"\$\{?(\w+)\}?", source["secureJsonData"]["password"])
    assert var, "datasource password must come from an environment variable"
    grafana = services["grafana"]
    assert var.group(1) in _environment(grafana), f"grafana: {var.group(1)} is not set on the service"
    env = _environment(grafana)
    assert "grafana-clickhouse-datasource" in env.get("GF_INSTALL_PLUGINS", ""), "grafana: plugin not installed"


def test_grafana_dashboards_are_mounted_where_the_provider_reads(services: dict[str, Any]) -> None:
    data = yaml.safe_load(DASHBOARD_PROVIDER_FILE.read_text())
    provider = data["providers"][0]
    assert provider["type"] == "file" and provider["folder"] == "Selene"
    path = provider["options"]["path"]
    mounts = {
        str(v).split(":")[1]: str(v).split(":")[0]
        for v in services["grafana"].get("volumes") or []
        if isinstance(v, str)
    }
    assert mounts.get(path) == "./infra/grafana/dashboards", f"grafana: nothing from infra mounted at {path}"


def test_clickhouse_user_matches_selene_settings(services: dict[str, Any]) -> None:
    root = ET.parse(CLICKHOUSE_USERS_FILE).getroot()
    user = _environment(services["api"])["SELENE_CLICKHOUSE_USER"]
    node = root.find(f"users/{user}")
    assert node is not None, f"{CLICKHOUSE_USERS_FILE.name} does not define user {user!r}"
    password = node.find("password")
    assert password is not None and password.get("from_env"), "the selene user's password must use from_env"
    assert password.get("from_env") in _environment(services["clickhouse"]), (
        f"clickhouse: {password.get('from_env')} is not set on the service"
    )


def test_prometheus_scrapes_every_selene_part_at_its_metrics_port(services: dict[str, Any]) -> None:
    from infra.settings import AgentSettings, SinkSettings, WorkerSettings

    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    targets = set()
    for job in config["scrape_configs"]:
        targets |= {target for static in job.get("static_configs", []) for target in static["targets"]}
        targets |= {f"{name}:{sd['port']}" for sd in job.get("dns_sd_configs", []) for name in sd["names"]}
    api_port = _environment(services["api"])["SELENE_API_PORT"]
    assert targets == {
        f"api:{api_port}", f"sink:{SinkSettings().metrics_port}", f"worker:{WorkerSettings().metrics_port}",
        f"video-agent:{AgentSettings().metrics_port}",
    }
    assert all(_environment(services[name]).get("SELENE_METRICS_HOST") == "0.0.0.0" for name in SELENE_SERVICES)
    mounts = {str(v).split(":")[1] for v in services["prometheus"]["volumes"] if str(v).startswith("./infra/prometheus")}
    assert mounts == {"/etc/prometheus/prometheus.yml"}


def test_the_metrics_dashboard_reads_prometheus_and_only_metrics_selene_exports(services: dict[str, Any]) -> None:
    from prometheus_client import REGISTRY

    import infra.metrics  # noqa: F401 - registers every Selene metric

    [source] = yaml.safe_load(PROMETHEUS_DATASOURCE_FILE.read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090" and "prometheus" in services
    board = json.loads(METRICS_DASHBOARD_FILE.read_text())
    exported = {sample for metric in REGISTRY.collect() for sample in (metric.name, f"{metric.name}_total",
                                                                       f"{metric.name}_bucket")}
    used = set()
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == source["uid"]
        for target in panel["targets"]:
            used |= set(re.findall(r"\bselene_[a-z_]+", target["expr"]))
    assert used and used <= exported, f"not exported: {sorted(used - exported)}"
