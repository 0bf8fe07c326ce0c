"""zhtag's code lives in three packages installed beside this one, `data`, `model` and
`service` (the project's layout). A `model.py` or `data/` in the user's folder comes first on
the module path and would stand in for them with a baffling error; importing this module
(`zhtag` does so first) names it instead."""
from __future__ import annotations

import importlib.util
import os


def _check_own_packages() -> None:
    """Raise ImportError naming what stands in for one of zhtag's packages, or saying that
    one is gone: another installed distribution that ships a package of the same name
    overwrites zhtag's files, and uninstalling it deletes them, which pip does not notice."""
    home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for name in ("data", "model", "service"):
        spec = importlib.util.find_spec(name)
        own = os.path.join(home, name)
        folders = list(spec.submodule_search_locations or ()) if spec else []  # a folder without __init__.py has no origin
        where = spec.origin if spec and spec.origin else next((f for f in folders if os.path.abspath(f) != own), None)
        if where is None:
            raise ImportError(f"zhtag's own package {name!r} is missing or damaged (another installed package named {name!r} may have "
                              "replaced or removed its files): reinstall zhtag, with pip install --force-reinstall --no-deps")
        if not os.path.abspath(where).startswith(own + os.sep):
            raise ImportError(f"zhtag needs its own package {name!r}, but {where} is found under that name first; rename it, or run from another folder")


_check_own_packages()
