"""The deploy/ tree read offline, as Argo CD will read it: ApplicationSet expansion and its
Go-template subset, the files derived from the cluster spec (``inv gitops.generate``), resource
capacity, and the simulated sync order. The ``gitops`` namespace holds the Argo CD operations
that act on a cluster; this package needs none.
"""
