"""Custom actions for the screening assistant (run by rasa-sdk's action server).

Modules: conversation (session, consent, questions about the treatment, stop/start over,
fallback), questionnaire (asking and validating the screening questions), outcome
(summary, corrections, outcome), consultation (the consultation request).
"""
