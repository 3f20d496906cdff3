"""The web app's parts, split the way datasette separates them: layout.py (the page and its wiring), handlers.py
(what each control does), render.py (HTML of answers, cards and refusals), chat.py (the conversation as one page),
suggest.py (the words of a question that no document uses; the topics offered are sendbot.core.topics),
documents.py (the document route) with reading.py (a text document as a page, at the quoted passage), admin.py
(signing in, the gate in front of Gradio's uploads and the administrators' events, the feedback download) with
guard.py (the sign-in lockout, sessions and upload rate it uses), options.py (the command-line options shared by
`python app.py` and `sendbot serve`), theme.py and static/ (the look, and the scripts for the conversation's
buttons). app.py assembles them."""
