"""The bundled data, installed as the package ``hexdesk.resources`` (see pyproject.toml and hexdesk/market/paths.py).

Python-free apart from this file: it is here so that ``importlib.resources.files("hexdesk.resources")`` is a plain
directory both in an installed wheel and in the editable install that ``make`` does.
"""
