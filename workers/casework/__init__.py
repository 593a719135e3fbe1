"""Casework after a mail-out: a person cancels, resends or re-plans letters (issue 16).

Each change is one function taking a session and the acting person; the caller commits, so the
change and its audit event land together. The CLI (`iro dispatches cancel|resend`) and the web
page call the same functions.
"""
