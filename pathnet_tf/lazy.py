"""Names a package exports but loads on first use (PEP 562), so that importing the
package does not start TensorFlow."""

from __future__ import annotations

import importlib


def loader(package: str, table: dict[str, str], namespace: dict):
    """A module `__getattr__` for `package`: a name in `table` (name -> submodule)
    is imported from `package.submodule` when first asked for, then kept in
    `namespace` (the package's globals)."""

    def __getattr__(name: str):
        if name in table:
            value = getattr(importlib.import_module(f"{package}.{table[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
