#!/usr/bin/env python3
"""action-as-workflow.py ACTION_YML OUT_DIR

actionlint reads workflows, not composite actions: this writes the steps of
ACTION_YML into OUT_DIR/action.yml as the one job of a workflow whose
`workflow_call` inputs are the action's, so that lint-workflows checks the
action's expressions, step references and `uses:` inputs. Needs PyYAML.
"""
import os
import sys

import yaml

action = yaml.safe_load(open(sys.argv[1]))
inputs = {
    name: {"type": "string", "required": False, "default": spec.get("default", "")}
    for name, spec in action.get("inputs", {}).items()
}
workflow = {
    "name": "action.yml as a workflow",
    "on": {"workflow_call": {"inputs": inputs}},
    "permissions": {"contents": "read"},
    "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
}
os.makedirs(sys.argv[2], exist_ok=True)
with open(os.path.join(sys.argv[2], "action.yml"), "w") as out:
    yaml.safe_dump(workflow, out, sort_keys=False, width=1000)
