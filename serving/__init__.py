"""Extensions loaded by the Rasa server itself (not the action server).

Importing this package makes Rasa validate action-server responses without re-checking
its constant schema on every call (action_response_validation.py: the largest single cost
of a turn, measured in docs/benchmarks.md). Every Rasa server of this project imports it:
through the channels package (credentials.yml) and the lock store (production endpoints).
"""
from serving import action_response_validation as _action_response_validation

_action_response_validation.install()
