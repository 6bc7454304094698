"""Plans: what each task would run for a given world (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.errors import UserError
from tasks.core.runner import Command, WriteFile
from tasks.core.state import ClusterState
from tasks.infra.facts import (
    Disk,
    Domain,
    DomainInfo,
    Interface,
    LibvirtFacts,
    Network,
    NetworkState,
    Pool,
    PoolState,
)
from tasks.infra.libvirt_xml import parse_network_xml
from tasks.infra.plan import (
    plan_destroy,
    plan_iso_volume,
    plan_network,
    plan_pool,
    plan_power_off,
    plan_shutdown,
    plan_start,
    plan_vms,
    running_nodes,
    virt_install,
)
from tasks.infra.settings import InfraSettings

URI = "qemu:///system"
ISO = "talos.iso"
POOL = "propertea-local"
POOL_DIR = Path("/srv/pool")


@pytest.fixture
def settings(tmp_path: Path) -> InfraSettings:
    return InfraSettings(
        URI, "kvm", "host-passthrough", POOL_DIR, ClusterState(tmp_path / "state"), POOL
    )


def pool(
    *names: str,
    active: bool = True,
    autostart: bool = True,
    capacities: dict[str, int] | None = None,
) -> Pool:
    volumes = {n: str(POOL_DIR / n) for n in names}
    return Pool(POOL, PoolState(active, True, autostart), str(POOL_DIR), volumes, capacities or {})


def argvs(steps: list[object]) -> list[list[str]]:
    return [list(s.argv) if isinstance(s, Command) else ["# write", str(s.path)] for s in steps]  # type: ignore[union-attr]


def virsh(*args: str) -> list[str]:
    return ["virsh", "-c", URI, *args]


def network(
    spec: ClusterSpec,
    *,
    active: bool = True,
    persistent: bool = True,
    autostart: bool = True,
    xml_change: tuple[str, str] | None = None,
) -> Network:
    from tasks.infra.libvirt_xml import network_xml

    xml = network_xml(spec)
    if xml_change:
        xml = xml.replace(*xml_change)
    return Network(
        spec.network.name,
        NetworkState(active, persistent, autostart, spec.network.bridge),
        parse_network_xml(xml),
    )


def domain(
    spec: ClusterSpec,
    name: str,
    *,
    state: str = "running",
    cpus: int | None = None,
    memory: int | None = None,
    mac: str | None = None,
) -> Domain:
    node = spec.node(name)
    return Domain(
        name,
        DomainInfo(state, cpus or node.cpus, memory or node.memory_mib, True),
        (Interface("network", spec.network.name, "virtio", mac or node.mac),),
        (
            Disk("file", "disk", "vda", str(POOL_DIR / f"{name}.qcow2")),
            Disk("file", "cdrom", "sda", str(POOL_DIR / ISO)),
        ),
    )


def all_domains(spec: ClusterSpec, **kw: str) -> dict[str, Domain]:
    return {n.name: domain(spec, n.name, **kw) for n in spec.nodes}  # type: ignore[arg-type]


def test_fresh_network_is_written_defined_started_autostarted(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    planned = plan_network(spec, settings, LibvirtFacts(reachable=True))
    xml_path = settings.network_xml_path
    assert argvs(planned.steps) == [
        ["# write", str(xml_path)],
        virsh("net-define", str(xml_path)),
        virsh("net-start", "talos"),
        virsh("net-autostart", "talos"),
    ]
    write = planned.steps[0]
    assert isinstance(write, WriteFile) and "<name>talos</name>" in str(write.content)


def test_matching_network_needs_nothing_or_only_what_is_off(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    assert plan_network(spec, settings, LibvirtFacts(True, network(spec))).steps == []
    stopped = LibvirtFacts(True, network(spec, active=False, autostart=False))
    assert argvs(plan_network(spec, settings, stopped).steps) == [
        virsh("net-start", "talos"),
        virsh("net-autostart", "talos"),
    ]


def test_different_network_is_reported_and_replaced_only_when_allowed(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    facts = LibvirtFacts(True, network(spec, xml_change=("192.168.50.199", "192.168.50.150")))
    refused = plan_network(spec, settings, facts)
    assert refused.steps == []
    assert refused.differences == ["dhcp end: existing '192.168.50.150', spec '192.168.50.199'"]
    replaced = plan_network(spec, settings, facts, replace=True)
    assert [a[3] if a[0] == "virsh" else a[0] for a in argvs(replaced.steps)] == [
        "net-destroy", "net-undefine", "# write", "net-define", "net-start", "net-autostart",
    ]  # fmt: skip


def test_fresh_vms_get_a_disk_volume_and_a_domain_each(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    planned = plan_vms(spec, settings, LibvirtFacts(True, network(spec)), iso=ISO)
    steps = argvs(planned.steps)
    assert steps[0] == virsh("vol-create-as", POOL, "talos-cp-01.qcow2", "40G", "--format", "qcow2")
    assert steps[1] == [
        "virt-install", "--connect", URI, "--virt-type", "kvm", "--name", "talos-cp-01",
        "--memory", "4096", "--vcpus", "2", "--cpu", "host-passthrough",
        "--disk", f"vol={POOL}/talos-cp-01.qcow2,bus=virtio",
        "--disk", f"vol={POOL}/{ISO},device=cdrom,bus=sata,readonly=on",
        "--import", "--os-variant", "linux2022",
        "--network", "network=talos,mac=52:54:00:50:00:10,model=virtio",
        "--boot", "hd,cdrom", "--graphics", "none", "--serial", "pty",
        "--console", "pty,target_type=serial", "--noautoconsole", "--autostart",
    ]  # fmt: skip
    assert planned.created == ["talos-cp-01", "talos-worker-01", "talos-worker-02"]
    assert len(steps) == 6


def test_existing_volume_is_reused_and_existing_domain_left_alone(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    facts = LibvirtFacts(
        True,
        network(spec),
        domains={"talos-worker-01": domain(spec, "talos-worker-01")},
        pool=pool("talos-cp-01.qcow2", "talos-worker-01.qcow2", ISO),
    )
    planned = plan_vms(spec, settings, facts, iso=ISO)
    tools = [
        (a[0], a[a.index("--name") + 1] if "--name" in a else a[5]) for a in argvs(planned.steps)
    ]
    assert tools == [
        ("virt-install", "talos-cp-01"),
        ("virsh", "talos-worker-02.qcow2"),
        ("virt-install", "talos-worker-02"),
    ]
    assert planned.created == ["talos-cp-01", "talos-worker-02"]


def test_drift_is_reported_never_changed(spec: ClusterSpec, settings: InfraSettings) -> None:
    domains = all_domains(spec)
    domains["talos-cp-01"] = domain(
        spec, "talos-cp-01", cpus=4, memory=2048, mac="52:54:00:99:99:99"
    )
    elsewhere = domain(spec, "talos-worker-02")
    domains["talos-worker-02"] = Domain(
        elsewhere.name,
        elsewhere.info,
        elsewhere.interfaces,
        (Disk("file", "disk", "vda", "/elsewhere/w2.qcow2"),),
    )
    volumes = pool(
        "talos-cp-01.qcow2",
        "talos-worker-01.qcow2",
        capacities={"talos-cp-01.qcow2": 40 * 2**30, "talos-worker-01.qcow2": 20 * 2**30},
    )
    facts = LibvirtFacts(True, network(spec), domains=domains, pool=volumes)
    planned = plan_vms(spec, settings, facts, iso=ISO)
    assert planned.steps == []
    assert planned.drift == [
        "talos-cp-01: vCPUs 4, spec 2",
        "talos-cp-01: memory 2048 MiB, spec 4096 MiB",
        "talos-cp-01: MAC 52:54:00:99:99:99, spec 52:54:00:50:00:10",
        f"talos-worker-01: volume {POOL}/talos-worker-01.qcow2 20 GiB, spec 60 GiB",
        f"talos-worker-02: disk /elsewhere/w2.qcow2, spec volume {POOL}/talos-worker-02.qcow2",
    ]


def test_virt_install_escapes_commas_and_uses_settings(spec: ClusterSpec, tmp_path: Path) -> None:
    tcg = InfraSettings(
        "qemu+unix:///system?socket=/s", "qemu", "qemu64", tmp_path, ClusterState(tmp_path), "p,q"
    )
    argv = list(
        virt_install(
            spec.nodes[0], spec, tcg, iso="x,y.iso", os_variant="detect=on,require=off"
        ).argv
    )
    assert argv[1:6] == [
        "--connect",
        "qemu+unix:///system?socket=/s",
        "--virt-type",
        "qemu",
        "--name",
    ]
    assert argv[argv.index("--cpu") + 1] == "qemu64"
    assert "vol=p,,q/talos-cp-01.qcow2,bus=virtio" in argv
    assert "vol=p,,q/x,,y.iso,device=cdrom,bus=sata,readonly=on" in argv
    assert argv[argv.index("--os-variant") + 1] == "detect=on,require=off"


def test_pool_is_defined_built_started_autostarted_like_the_network(
    settings: InfraSettings,
) -> None:
    assert argvs(plan_pool(settings, LibvirtFacts(True))) == [
        virsh("pool-define-as", POOL, "dir", "--target", str(POOL_DIR)),
        virsh("pool-build", POOL),
        virsh("pool-start", POOL),
        virsh("pool-autostart", POOL),
    ]
    assert plan_pool(settings, LibvirtFacts(True, pool=pool())) == []
    off = LibvirtFacts(True, pool=pool(active=False, autostart=False))
    assert argvs(plan_pool(settings, off)) == [
        virsh("pool-start", POOL),
        virsh("pool-autostart", POOL),
    ]


def test_iso_is_uploaded_only_when_missing_or_different(settings: InfraSettings) -> None:
    local = Path("/cache/talos.iso")
    upload = [
        virsh("vol-create-as", POOL, ISO, "1000", "--format", "raw"),
        virsh("vol-upload", ISO, str(local), "--pool", POOL),
    ]

    def plan(facts: LibvirtFacts, same: bool) -> list[list[str]]:
        return argvs(
            plan_iso_volume(settings, facts, volume=ISO, local=local, size=1000, same=same)
        )

    assert plan(LibvirtFacts(True, pool=pool()), same=False) == upload
    there = LibvirtFacts(True, pool=pool(ISO, capacities={ISO: 1000}))
    assert plan(there, same=True) == []
    assert plan(there, same=False) == [virsh("vol-delete", ISO, "--pool", POOL), *upload]
    resized = LibvirtFacts(True, pool=pool(ISO, capacities={ISO: 999}))
    assert plan(resized, same=True) == [virsh("vol-delete", ISO, "--pool", POOL), *upload]


def test_start_only_what_is_not_running_and_needs_every_domain(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    domains = all_domains(spec)
    domains["talos-worker-02"] = domain(spec, "talos-worker-02", state="shut off")
    assert argvs(plan_start(spec, settings, LibvirtFacts(True, domains=domains))) == [
        virsh("start", "talos-worker-02")
    ]
    del domains["talos-cp-01"]
    with pytest.raises(
        UserError, match=r"No VM named talos-cp-01 at qemu:///system: run `inv infra.up` first"
    ):
        plan_start(spec, settings, LibvirtFacts(True, domains=domains))


def test_stop_shuts_down_running_then_powers_off(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    domains = all_domains(spec)
    domains["talos-worker-02"] = domain(spec, "talos-worker-02", state="shut off")
    names = running_nodes(spec, LibvirtFacts(True, domains=domains))
    assert names == ["talos-cp-01", "talos-worker-01"]
    assert argvs(plan_shutdown(settings, names)) == [virsh("shutdown", n) for n in names]
    assert argvs(plan_power_off(settings, names)) == [virsh("destroy", n) for n in names]


def test_destroy_removes_the_toolkits_volumes_only_and_the_pool_when_empty(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    domains = all_domains(spec)
    domains["talos-worker-01"] = domain(spec, "talos-worker-01", state="shut off")
    del domains["talos-worker-02"]
    names = ["talos-cp-01.qcow2", "talos-worker-01.qcow2", "talos-worker-02.qcow2", ISO]
    facts = LibvirtFacts(True, network(spec), domains=domains, pool=pool(*names))
    planned = plan_destroy(spec, settings, facts, iso=ISO)
    assert argvs(planned.steps) == [
        virsh("destroy", "talos-cp-01"),
        virsh("undefine", "talos-cp-01", "--storage", "vda"),
        virsh("undefine", "talos-worker-01", "--storage", "vda"),
        virsh("vol-delete", "talos-worker-02.qcow2", "--pool", POOL),
        virsh("net-destroy", "talos"),
        virsh("net-undefine", "talos"),
        virsh("vol-delete", ISO, "--pool", POOL),
        virsh("pool-destroy", POOL),
        virsh("pool-delete", POOL),
        virsh("pool-undefine", POOL),
    ]
    assert planned.volumes == [
        str(POOL_DIR / "talos-cp-01.qcow2"),
        str(POOL_DIR / "talos-worker-01.qcow2"),
        f"{POOL}/talos-worker-02.qcow2",
    ]
    assert planned.kept == []
    assert plan_destroy(spec, settings, LibvirtFacts(True)).steps == []


def test_destroy_keeps_a_foreign_disk_and_the_pool_holding_it(
    spec: ClusterSpec, settings: InfraSettings
) -> None:
    domains = all_domains(spec, state="shut off")
    cp = domains["talos-cp-01"]
    foreign = Disk("file", "disk", "vdb", str(POOL_DIR / "data.qcow2"))
    domains["talos-cp-01"] = Domain(cp.name, cp.info, cp.interfaces, (*cp.disks, foreign))
    names = [f"{n.name}.qcow2" for n in spec.nodes] + ["data.qcow2", ISO]
    facts = LibvirtFacts(True, domains=domains, pool=pool(*names))
    planned = plan_destroy(spec, settings, facts, iso=ISO)
    assert argvs(planned.steps) == [
        virsh("undefine", n.name, "--storage", "vda") for n in spec.nodes
    ]
    assert planned.kept == [f"talos-cp-01 vdb {POOL_DIR}/data.qcow2"]
