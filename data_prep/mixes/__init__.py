"""Built-in mix files (YAML): ``videossr30k`` (training), ``viubench`` (evaluation), ``example``.

A package only so that the YAML files ship with the wheel; see ``data_prep.builders.mixes``.
"""
