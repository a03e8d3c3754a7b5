"""Helpers shared by the tests and the benchmarks (bench/): no test files here.

conversation.py  a REST-channel conversation (say, tap, replies) with a running assistant
screening.py     walks the questionnaire through any such conversation
servers.py       starts the Rasa server and the action server on free ports, with a trained model
cluster.py       the production topology: two Rasa servers, PostgreSQL, Redis, nginx
platforms.py     Twilio (SMS, WhatsApp) and Telegram patients: signed webhook requests
standin.py       a local stand-in for the platforms' outbound APIs, recording each call
text_conversations.py  the same say / tap / replies over SMS, WhatsApp and Telegram
malformed_bodies.py    malformed REST bodies for the fuzz runs, reproducible from a seed
"""
