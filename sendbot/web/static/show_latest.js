() => setTimeout(() => {
  // After an answer arrives: bring the chat into view (example buttons sit below it on a phone) and scroll the
  // conversation so the latest question and the start of its answer show, rather than the end of the source cards.
  // (Gradio runs this file as the expression it is: keep it one arrow function, with comments only inside it.)
  const chat = document.getElementById('sb-chat');
  if (!chat) return;
  const box = chat.getBoundingClientRect();
  if (box.top < 0 || box.top > window.innerHeight * 0.6) chat.scrollIntoView({block: 'start'});
  const rows = chat.querySelectorAll('.message-row.user-row');
  const last = rows[rows.length - 1];
  let pane = last && last.parentElement;
  while (pane && pane !== chat && !(/auto|scroll/.test(getComputedStyle(pane).overflowY) && pane.scrollHeight > pane.clientHeight)) {
    pane = pane.parentElement;
  }
  if (pane && pane !== chat) pane.scrollTop += last.getBoundingClientRect().top - pane.getBoundingClientRect().top - 8;
}, 150)
