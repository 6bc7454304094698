"""``inv aks.*``: the AKS environment (see deploy/aks/README.md)."""
