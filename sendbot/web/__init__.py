"""The web app's parts, split the way datasette separates them: layout.py (the page and its wiring), handlers.py
(what each control does), render.py (HTML), documents.py (the document route), options.py (the command-line
options shared by `python app.py` and `sendbot serve`), theme.py and static/ (the look). app.py assembles them."""
