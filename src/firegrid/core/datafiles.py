"""Rules and settings kept as YAML data files: the packaged default or a file a setting
names, validated into a pydantic model with an error that names the file and each bad
field (``{"file", "problems": [{"field", "message"}]}`` in the details)."""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem, first_of, pydantic_problems
from firegrid.core.texts import TextCode

M = TypeVar("M", bound=BaseModel)


def parse_yaml_model(
    model: type[M], text: str, *, label: str, origin: str, shape: str, root_field: str = ""
) -> M:
    """``model`` from YAML ``text``; ``label`` names the data ("merge rules"), ``origin``
    the file, ``shape`` what the top level must be ("a mapping with 'kinds'");
    ``root_field`` names a problem of the document as a whole."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(
            f"{label} {origin}: not valid YAML: {exc}",
            text=TextCode.DOCUMENT_NOT_YAML,
            params={"kind": label.replace(" ", "_")},
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            f"{label} {origin}: must be {shape}",
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": label.replace(" ", "_"), "field": "", "problem": Problem.NOT_MAPPING},
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = [replace(f, field=f.field or root_field) for f in pydantic_problems(exc.errors())]
        first = found[0]
        raise ValidationFailed(
            f"{label} {origin}: {first.field}: {first.message}",
            {"file": origin, "problems": [f.as_dict() for f in found]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": label.replace(" ", "_"), **first_of(found)},
        ) from None


def load_yaml_model(
    model: type[M],
    path: Path | None,
    *,
    package: str,
    default_file: str,
    label: str,
    setting: str,
    shape: str,
    root_field: str = "",
) -> M:
    """``model`` from the file ``path``, or the packaged ``default_file`` of ``package``
    when ``path`` is None; ``setting`` is the variable that named the file (the hint)."""
    if path is None:
        text = (files(package) / default_file).read_text(encoding="utf-8")
        origin = f"(packaged {default_file})"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationFailed(
                f"{label} {path}: cannot be read ({exc.strerror}); "
                f"fix {setting} or unset it to use the defaults",
                {"file": str(path)},
                text=TextCode.FILE_UNREADABLE,
                params={"file": str(path)},
            ) from None
        origin = str(path)
    return parse_yaml_model(
        model, text, label=label, origin=origin, shape=shape, root_field=root_field
    )
