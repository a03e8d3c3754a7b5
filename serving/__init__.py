"""Extensions of the Rasa server itself (not the action server).

- extensions.py                  the one list of every server extension, installed in order by
                                 install_server_extensions() (see that module)
- __main__.py                    the launcher: `python -m serving run|shell ...` installs the
                                 list, then hands the arguments to Rasa's CLI
- action_response_validation.py  action-server responses validated without re-checking the schema
- fault_handling.py              a failed turn is not stored and the patient gets an apology
- tracker_store.py               the SQL tracker store that rides out database restarts
- lock_store.py                  the Redis lock store with atomic ticket updates

Importing this package (or any module in it) installs nothing.
"""
