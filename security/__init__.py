"""Start-up safety checks and log redaction shared by every process (pure Python, no Rasa).

production_settings: refuse to start in production mode with missing or default secrets.
log_redaction: keep message text, names, phone numbers and emails out of the logs.
"""
