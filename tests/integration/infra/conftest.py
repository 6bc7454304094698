"""A real libvirtd with qemu, private to the test session (DESIGN.md, "Testing").

libvirtd runs inside its own network namespace (its NAT networks, bridges, dnsmasq and iptables
rules never touch the host's) and its own mount namespace, where tmpfs covers /etc/libvirt,
/run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt: a system libvirtd on the
same host keeps its state, sockets and configuration. The client socket lives in a tmp dir outside
the namespaces, so virsh and virt-install connect with ``qemu+unix:///system?socket=...``.

``libvirt_ssh`` adds the topology of the guide: a real OpenSSH server in the same namespaces (the
"infra VM"), reached over a veth pair, and the toolkit connecting with ``qemu+ssh://`` from outside
the mount namespace, so a file written on the client instead of the hypervisor is detected.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[3]
BINARIES = (
    "libvirtd",
    "virtlogd",
    "virsh",
    "virt-install",
    "qemu-img",
    "qemu-system-x86_64",
    "dnsmasq",
    "iptables",
    "ip",
    "unshare",
)
PRIVATE_DIRS = (
    "/etc/libvirt",
    "/run/libvirt",
    "/var/lib/libvirt",
    "/var/log/libvirt",
    "/var/cache/libvirt",
)
START_TIMEOUT = 30.0

# Debian's libvirtd resolves its built-in qemu user and group before reading qemu.conf, so they
# must exist even though the private qemu.conf below runs guests as root.
ACCOUNTS_HINT = (
    "groupadd -r kvm; groupadd -r libvirt-qemu; useradd -r -g libvirt-qemu -G kvm libvirt-qemu"
)

LIBVIRTD_CONF = """\
unix_sock_dir = "{sock_dir}"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
"""
# Guests run as root with no security driver: their disks live in pytest tmp dirs.
QEMU_CONF = """\
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
"""


@dataclass
class Libvirt:
    uri: str
    netns: str
    root: Path
    subnets: list[int] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.root / "sock" / "libvirt-sock"

    @property
    def pid(self) -> int:
        """libvirtd's pid: its mount namespace is the hypervisor's file system."""
        return int((self.root / "libvirtd.pid").read_text().strip())

    def on_hypervisor(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run a command inside libvirtd's mount and network namespaces."""
        return subprocess.run(
            ["nsenter", "-t", str(self.pid), "-m", "-n", "--", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def exists_on_hypervisor(self, path: str | Path) -> bool:
        return self.on_hypervisor("test", "-e", str(path)).returncode == 0

    def virsh(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["virsh", "-c", self.uri, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"virsh {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout

    def names(self, *args: str) -> set[str]:
        return {line.strip() for line in self.virsh(*args).splitlines() if line.strip()}


def _ensure_accounts() -> None:
    for group in ("kvm", "libvirt-qemu"):
        try:
            grp.getgrnam(group)
        except KeyError:
            subprocess.run(["groupadd", "-r", group], check=True)
    try:
        pwd.getpwnam("libvirt-qemu")
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "-r",
                "-M",
                "-g",
                "libvirt-qemu",
                "-G",
                "kvm",
                "-d",
                "/var/lib/libvirt",
                "-s",
                "/usr/sbin/nologin",
                "libvirt-qemu",
            ],
            check=True,
        )


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


def _cleanup_libvirt(lv: Libvirt) -> None:
    """Leftovers of failed tests: every domain and network this daemon knows."""
    for name in lv.names("list", "--all", "--name"):
        lv.virsh("destroy", name, check=False)
        lv.virsh("undefine", name, check=False)
    for name in lv.names("net-list", "--all", "--name"):
        lv.virsh("net-destroy", name, check=False)
        lv.virsh("net-undefine", name, check=False)
    for name in lv.names("pool-list", "--all", "--name"):
        remove_pool(lv, name)


def remove_pool(lv: Libvirt, name: str) -> None:
    """A test's pool with every volume in it (``pool-delete`` only removes an empty directory)."""
    if name not in lv.names("pool-list", "--all", "--name"):
        return
    lv.virsh("pool-start", name, check=False)
    listing = lv.virsh("vol-list", name, check=False).splitlines()[2:]
    for row in listing:
        if row.split():
            lv.virsh("vol-delete", row.split()[0], "--pool", name, check=False)
    lv.virsh("pool-destroy", name, check=False)
    lv.virsh("pool-delete", name, check=False)
    lv.virsh("pool-undefine", name, check=False)


@pytest.fixture(scope="session")
def libvirt() -> Iterator[Libvirt]:
    if os.geteuid() != 0:
        pytest.skip("needs root: libvirtd runs in its own network and mount namespace")
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        pytest.skip(
            f"missing {', '.join(missing)}: apt-get install libvirt-daemon "
            "libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils virtinst "
            "dnsmasq-base iptables"
        )
    _ensure_accounts()
    root = Path(tempfile.mkdtemp(prefix="pt-libvirt-"))
    root.chmod(0o755)
    sock_dir = root / "sock"
    sock_dir.mkdir()
    conf = root / "libvirtd.conf"
    conf.write_text(LIBVIRTD_CONF.format(sock_dir=sock_dir))
    qemu_conf = root / "qemu.conf"
    qemu_conf.write_text(QEMU_CONF)
    netns = f"pt-test-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    lv = Libvirt(f"qemu+unix:///system?socket={sock_dir}/libvirt-sock", netns, root)
    try:
        subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"], check=True)
        for mount_point in PRIVATE_DIRS:
            Path(mount_point).mkdir(parents=True, exist_ok=True)
        mounts = " ".join(shlex.quote(d) for d in PRIVATE_DIRS)
        script = (
            "set -e\n"
            f'for d in {mounts}; do mount -t tmpfs -o mode=0755 tmpfs "$d"; done\n'
            f"cp {shlex.quote(str(qemu_conf))} /etc/libvirt/qemu.conf\n"
            f"virtlogd -d -p {shlex.quote(str(root / 'virtlogd.pid'))}\n"
            f"libvirtd -d -f {shlex.quote(str(conf))} "
            f"-p {shlex.quote(str(root / 'libvirtd.pid'))}\n"
        )
        started = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                netns,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
            ],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
        if started.returncode != 0:
            raise RuntimeError(f"libvirtd did not start: {started.stderr}")
        deadline = time.monotonic() + START_TIMEOUT
        while not (sock_dir / "libvirt-sock").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"libvirtd socket did not appear in {sock_dir} (accounts: {ACCOUNTS_HINT})"
                )
            time.sleep(0.1)
        lv.virsh("uri")
        yield lv
    finally:
        if (sock_dir / "libvirt-sock").exists():
            _cleanup_libvirt(lv)
        _stop(root / "libvirtd.pid")
        _stop(root / "virtlogd.pid")
        pids = subprocess.run(
            ["ip", "netns", "pids", netns], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", netns], check=False)
        shutil.rmtree(root, ignore_errors=True)


SSHD_CONFIG = """\
ListenAddress {address}
Port 22
HostKey {root}/ssh_host_ed25519_key
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
"""


@dataclass
class LibvirtSsh:
    """The libvirtd above behind a real sshd: ``uri`` is ``qemu+ssh://root@ADDRESS/system?...``."""

    libvirt: Libvirt
    uri: str
    address: str


@pytest.fixture(scope="session")
def libvirt_ssh(libvirt: Libvirt) -> Iterator[LibvirtSsh]:
    missing = [b for b in ("sshd", "ssh", "ssh-keygen", "nsenter") if shutil.which(b) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: apt-get install openssh-server util-linux")
    root = libvirt.root / "ssh"
    root.mkdir()
    octet = secrets.randbelow(250) + 1
    host_ip, ns_ip = f"10.252.{octet}.1", f"10.252.{octet}.2"
    host_if, ns_if = f"ptv{secrets.token_hex(3)}", f"ptn{secrets.token_hex(3)}"
    for argv in (
        ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
        ["ip", "link", "set", ns_if, "netns", libvirt.netns],
        ["ip", "addr", "add", f"{host_ip}/30", "dev", host_if],
        ["ip", "link", "set", host_if, "up"],
        ["ip", "netns", "exec", libvirt.netns, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if],
        ["ip", "netns", "exec", libvirt.netns, "ip", "link", "set", ns_if, "up"],
    ):
        subprocess.run(argv, check=True, capture_output=True)
    for key in ("ssh_host_ed25519_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / key)], check=True
        )
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    (root / "sshd_config").write_text(SSHD_CONFIG.format(address=ns_ip, root=root))
    # libvirt's ssh transport has no URI parameter for ssh options; this keeps the host key of
    # the throwaway server out of ~/.ssh/known_hosts.
    wrapper = root / "ssh"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec ssh -o UserKnownHostsFile={root}/known_hosts "
        '-o GlobalKnownHostsFile=/dev/null "$@"\n'
    )
    wrapper.chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    # The daemon's default socket path on the hypervisor, where virt-ssh-helper looks.
    libvirt.on_hypervisor("ln", "-sf", str(libvirt.socket), "/run/libvirt/libvirt-sock")
    started = libvirt.on_hypervisor(
        shutil.which("sshd") or "/usr/sbin/sshd", "-f", str(root / "sshd_config")
    )
    if started.returncode != 0:
        raise RuntimeError(f"sshd did not start: {started.stderr}")
    # No socket= parameter: with one, libvirt's ssh transport pipes through `nc -U` (not on a
    # default Debian/Ubuntu host); without, it runs virt-ssh-helper on the hypervisor, which
    # finds the daemon at /run/libvirt/libvirt-sock as on a real infra VM.
    uri = (
        f"qemu+ssh://root@{ns_ip}/system?keyfile={root}/client_key&no_verify=1&no_tty=1"
        f"&command={wrapper}"
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            probe = subprocess.run(
                ["virsh", "-c", uri, "uri"], capture_output=True, text=True, check=False
            )
            if probe.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"virsh over ssh failed: {probe.stderr}")
            time.sleep(0.2)
        yield LibvirtSsh(libvirt, uri, ns_ip)
    finally:
        _stop(root / "sshd.pid")
        subprocess.run(["ip", "link", "del", host_if], check=False, capture_output=True)


# -- a tiny cluster per test -------------------------------------------------------------------


@dataclass
class TinyCluster:
    """A cluster spec with unique names and subnet, tiny nodes, and the env that points at it."""

    spec_path: Path
    env: dict[str, str]
    network: str
    bridge: str
    nodes: dict[str, str]  # name -> MAC
    iso: Path
    image_dir: Path
    uri: str

    @property
    def network_prefix(self) -> str:
        """The first three octets of the cluster's /24."""
        from tasks.core.config import load_spec

        return load_spec(self.spec_path).spec.network.cidr.rsplit(".", 1)[0]

    @property
    def pool(self) -> str:
        """The storage pool: named after the cluster (``infra.pool`` unset)."""
        return self.network

    @property
    def iso_volume(self) -> str:
        from tasks.core.config import load_spec
        from tasks.infra.iso import iso_volume

        return iso_volume(load_spec(self.spec_path).spec)

    def edit(self, change: object) -> None:
        yaml = YAML()
        data = yaml.load(self.spec_path.read_text())
        change(data)  # type: ignore[operator]
        with self.spec_path.open("w") as f:
            yaml.dump(data, f)


_subnet_counter = iter(range(10, 250))


def _tiny_cluster(tmp_path: Path, uri: str, *, workers: int, image_dir: Path | None) -> TinyCluster:
    """A spec with unique names and subnet: one control plane and ``workers`` 256 MiB TCG guests."""
    suffix = secrets.token_hex(3)
    octet = next(_subnet_counter)
    net = f"10.251.{octet}"
    yaml = YAML()
    data = yaml.load((REPO / "deploy/local-cluster/cluster.yaml").read_text())
    data["cluster"]["name"] = f"pt{suffix}"
    data["cluster"]["endpoint"] = f"https://{net}.10:6443"
    data["network"] = {
        "name": f"pt{suffix}",
        "bridge": f"ptbr{suffix}",
        "cidr": f"{net}.0/24",
        "gateway": f"{net}.1",
        "dhcp": {"start": f"{net}.100", "end": f"{net}.199"},
    }
    nodes = {f"pt{suffix}-cp": f"52:54:00:{octet:02x}:00:10"}
    for i in range(1, workers + 1):
        nodes[f"pt{suffix}-w{i}"] = f"52:54:00:{octet:02x}:00:{10 + i:02x}"
    data["nodes"] = [
        {
            "name": name,
            "role": "controlplane" if i == 0 else "worker",
            "cpus": 1,
            "memory_mib": 256,
            "disk_gib": 1,
            "mac": mac,
            "ip": f"{net}.{10 + i}",
        }
        for i, (name, mac) in enumerate(nodes.items())
    ]
    data["load_balancer"] = {
        "pool": {"start": f"{net}.200", "end": f"{net}.230"},
        "gateway_ip": f"{net}.200",
    }
    spec_path = tmp_path / "cluster.yaml"
    with spec_path.open("w") as f:
        yaml.dump(data, f)
    iso = tmp_path / "talos.iso"
    # Any bytes do: the guests never boot from it. Not empty, since a volume has a size.
    iso.write_bytes(secrets.token_bytes(64 * 1024))
    environment = {
        "INVOKE_CLUSTER_FILE": str(spec_path),
        "INVOKE_STATE_DIR": str(tmp_path / "state"),
        "INVOKE_LIBVIRT_URI": uri,
        "INVOKE_INFRA_VIRT_TYPE": "qemu",
        "INVOKE_INFRA_CPU_MODEL": "qemu64",
    }
    if image_dir is not None:
        environment["INVOKE_INFRA_IMAGE_DIR"] = str(image_dir)
    else:
        image_dir = Path("/var/lib/libvirt/images") / f"pt{suffix}"
    return TinyCluster(
        spec_path, environment, f"pt{suffix}", f"ptbr{suffix}", nodes, iso, image_dir, uri
    )


def _remove_cluster(libvirt: Libvirt, cluster: TinyCluster) -> None:
    for name in cluster.nodes:
        libvirt.virsh("destroy", name, check=False)
        libvirt.virsh("undefine", name, check=False)
    libvirt.virsh("net-destroy", cluster.network, check=False)
    libvirt.virsh("net-undefine", cluster.network, check=False)
    remove_pool(libvirt, cluster.pool)


@pytest.fixture
def tiny_cluster(libvirt: Libvirt, tmp_path: Path) -> Iterator[TinyCluster]:
    """Two guests over the local socket, their pool in a tmp dir."""
    cluster = _tiny_cluster(tmp_path, libvirt.uri, workers=1, image_dir=tmp_path / "images")
    yield cluster
    _remove_cluster(libvirt, cluster)


@pytest.fixture
def remote_cluster(libvirt_ssh: LibvirtSsh, tmp_path: Path) -> Iterator[TinyCluster]:
    """Three guests over qemu+ssh, the pool at its default place on the hypervisor side."""
    cluster = _tiny_cluster(tmp_path, libvirt_ssh.uri, workers=2, image_dir=None)
    yield cluster
    _remove_cluster(libvirt_ssh.libvirt, cluster)


# The fixtures of the infra unit tests, for the task tests here that start `inv` and virsh.
from tests.unit.infra.conftest import http_server, spec  # noqa: E402, F401
from tests.unit.infra.test_tasks import env, factory_env  # noqa: E402, F401
