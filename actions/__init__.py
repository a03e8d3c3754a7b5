"""Custom actions for the screening assistant (run by rasa-sdk's action server).

Modules: conversation (session, consent, questions about the treatment, stop/start over,
fallback), questionnaire (asking and validating the screening questions), outcome
(summary, corrections, outcome), consultation (the consultation request).
"""

# rasa-sdk imports this package once at start-up, after reading the logging config: the one
# place to stop an action server that would run in production with unsafe settings.
from security.production_settings import refuse_unsafe_production_settings

refuse_unsafe_production_settings("actions")
