"""Custom actions for the screening assistant (run by rasa-sdk's action server).

Modules: conversation (session, consent, questions about the treatment, stop/start over,
fallback), questionnaire (asking and validating the screening questions), outcome
(summary, corrections, outcome), consultation (the consultation request).

Start the action server with `python -m actions --port 5055 --logging-config-file
security/logging.yml` (actions/__main__.py: checks the production settings, then runs
rasa-sdk's server). Importing this package has no side effect.
"""
