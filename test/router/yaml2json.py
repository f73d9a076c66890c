#!/usr/bin/python3
"""Converts a one-document YAML file to JSON: yaml2json.py IN.yaml OUT.json (tests only)."""
import json
import sys

import yaml

with open(sys.argv[1]) as src:
    doc = yaml.safe_load(src)
with open(sys.argv[2], "w") as dst:
    json.dump(doc, dst)
