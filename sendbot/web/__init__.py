"""The web app's parts, split the way datasette separates them: layout.py (the page and its wiring), handlers.py
(what each control does), render.py (HTML), documents.py (the document route), admin.py (signing in, the gate in
front of Gradio's uploads and the administrators' events, the feedback download) with guard.py (the sign-in
lockout, sessions and upload rate it uses), options.py (the command-line options shared by `python app.py` and
`sendbot serve`), theme.py and static/ (the look). app.py assembles them."""
