// The conversation's buttons (Gradio runs this once when the conversation component loads; `element` is its box
// and `trigger` sends an event to the Python side). One listener serves every answer, old and new:
// - a tapped question (Ask next, a nearby topic, "ask it on its own") is asked: the 'click' event;
// - Helpful / Not helpful send a vote, or withdraw it when pressed again: the 'select' event;
// - Copy answer and Copy link work in the page alone; opening a marker's card opens it if it was folded.
const base = location.href.split(/[?#]/)[0];
const absolute = (text) => text.replace(/^(\s+)documents\//gm, `$1${base}documents/`);
const say = (tools, message) => {
  const status = tools && tools.querySelector('.sb-tool-status');
  if (status) status.textContent = message;
};
const copy = async (text) => {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (error) {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand('copy');
    area.remove();
    return done;
  }
};
element.addEventListener('click', async (event) => {
  const button = event.target.closest('button, a.sb-marker');
  if (!button || !element.contains(button)) return;
  const tools = button.closest('.sb-tools');
  if (button.matches('a.sb-marker')) {
    const card = document.getElementById((button.getAttribute('href') || '').slice(1));
    const folded = card && card.querySelector('details:not([open])');
    if (folded) folded.open = true;
  } else if (button.matches('.sb-chip')) {
    trigger('click', {question: button.dataset.ask || '', standalone: button.dataset.standalone === '1'});
  } else if (button.matches('.sb-vote')) {
    const pressed = button.getAttribute('aria-pressed') !== 'true';
    tools.querySelectorAll('.sb-vote').forEach((b) => b.setAttribute('aria-pressed', 'false'));
    button.setAttribute('aria-pressed', String(pressed));
    trigger('select', {turn: Number(tools.dataset.turn), vote: pressed ? button.dataset.vote : 'none'});
  } else if (button.matches('.sb-copy')) {
    const plain = button.closest('.sb-answer').querySelector('.sb-plain');
    say(tools, (await copy(absolute(plain.textContent))) ? 'Answer copied.' : 'Copying did not work here.');
  } else if (button.matches('.sb-copy-link')) {
    const link = tools.querySelector('.sb-share');
    say(tools, (await copy(new URL(link.getAttribute('href'), base).href)) ? 'Link copied.' : 'Copying did not work here.');
  }
});
