"""Addresses: the load-balancer pool and the Gateway's address come from the spec."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from tasks.validate.model import Doc
from tasks.validate.policies.base import (
    Context,
    Rule,
    dig,
)

GATEWAY_ADDRESS = Rule(
    "policy/gateway-address",
    "Gateway and LoadBalancer addresses come from the spec's pool",
)
LB_POOL = Rule(
    "policy/lb-pool",
    "the CiliumLoadBalancerIPPool is exactly the spec's pool, clear of DHCP",
)


def _ranges(blocks: Any) -> Iterator[tuple[int, int, int]]:
    for i, block in enumerate(blocks if isinstance(blocks, list) else []):
        if not isinstance(block, dict):
            continue
        try:
            if "cidr" in block:
                net = ipaddress.ip_network(str(block["cidr"]), strict=False)
                yield i, int(net.network_address), int(net.broadcast_address)
            elif "start" in block:
                start = int(ipaddress.ip_address(str(block["start"])))
                stop = int(ipaddress.ip_address(str(block.get("stop", block["start"]))))
                yield i, start, stop
        except ValueError:
            continue


def addresses(ctx: Context, objects: list[Doc]) -> None:
    if ctx.spec is None:
        return
    lb = ctx.spec.load_balancer
    lo, hi = int(ipaddress.IPv4Address(lb.pool.start)), int(ipaddress.IPv4Address(lb.pool.end))
    dhcp = ctx.spec.network.dhcp
    dlo, dhi = int(ipaddress.IPv4Address(dhcp.start)), int(ipaddress.IPv4Address(dhcp.end))
    nodes = {int(ipaddress.IPv4Address(n.ip)): n.name for n in ctx.spec.nodes}

    def in_pool(value: Any) -> bool:
        try:
            return lo <= int(ipaddress.ip_address(str(value))) <= hi
        except ValueError:
            return False

    for doc in objects:
        if doc.kind == "CiliumLoadBalancerIPPool":
            ranges = list(_ranges(dig(doc.data, "spec", "blocks")))
            covered = sorted((a, b) for _, a, b in ranges)
            merged: list[list[int]] = []
            for a, b in covered:
                if merged and a <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            for i, a, b in ranges:
                if a <= dhi and dlo <= b:
                    ctx.report(
                        doc,
                        LB_POOL,
                        f"block overlaps the DHCP range {dhcp.start}-{dhcp.end}",
                        ["spec", "blocks", i],
                    )
                for ip, name in nodes.items():
                    if a <= ip <= b:
                        ctx.report(
                            doc,
                            LB_POOL,
                            f"block contains {name}'s IP",
                            ["spec", "blocks", i],
                        )
            if merged != [[lo, hi]]:
                have = (
                    ", ".join(
                        f"{ipaddress.IPv4Address(a)}-{ipaddress.IPv4Address(b)}" for a, b in merged
                    )
                    or "nothing"
                )
                ctx.report(
                    doc,
                    LB_POOL,
                    f"blocks cover {have}; the cluster spec's pool is "
                    f"{lb.pool.start}-{lb.pool.end}",
                    ["spec", "blocks"],
                )
        elif doc.kind == "Gateway":
            for i, addr in enumerate(dig(doc.data, "spec", "addresses") or []):
                value = addr.get("value") if isinstance(addr, dict) else None
                if value is not None and not in_pool(value):
                    ctx.report(
                        doc,
                        GATEWAY_ADDRESS,
                        f"address {value} is outside the LB pool {lb.pool.start}-{lb.pool.end}",
                        ["spec", "addresses", i],
                    )
        elif doc.kind == "Service" and dig(doc.data, "spec", "type") == "LoadBalancer":
            wanted: list[tuple[list[Any], str]] = []
            ip = dig(doc.data, "spec", "loadBalancerIP")
            if ip:
                wanted.append((["spec", "loadBalancerIP"], str(ip)))
            for key in ("lbipam.cilium.io/ips", "io.cilium/lb-ipam-ips"):
                if key in doc.annotations:
                    for value in str(doc.annotations[key]).split(","):
                        wanted.append((["metadata", "annotations", key], value.strip()))
            for path, value in wanted:
                if not in_pool(value):
                    ctx.report(
                        doc,
                        GATEWAY_ADDRESS,
                        f"address {value} is outside the LB pool {lb.pool.start}-{lb.pool.end}",
                        path,
                    )
