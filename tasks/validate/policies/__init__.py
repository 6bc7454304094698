"""The ``policies`` family's rules, one module per area; the family itself is
``tasks/validate/families/policies.py``."""
