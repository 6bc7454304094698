"""What ``gitops.install``, ``gitops.bootstrap`` and ``gitops.wait`` wait when given no option
(seconds); ``talos.bootstrap``'s hand-over runs the first two with these. A module of its own:
the tasks' ``--help`` reads them at import, on the ``inv --list`` path, which must stay light.
"""

INSTALL_TIMEOUT = 600
BOOTSTRAP_TIMEOUT = 1200
BOOTSTRAP_INTERVAL = 10
WAIT_TIMEOUT = 600
