() => {
  // After an answer arrives (or a shared link's answer on opening the page): bring the latest question into view,
  // with the start of its answer under it, and take a shared link's ?q= off the address so a reload does not ask
  // it again. Checked twice, as the page may still be drawing the answer the first time.
  // (Gradio runs this file as the expression it is: keep it one arrow function, comments inside it.)
  const url = new URL(location.href);
  if (url.searchParams.has('q')) {
    url.searchParams.delete('q');
    history.replaceState(history.state, '', url);
  }
  const show = () => {
    const asked = document.querySelectorAll('#sb-chat .sb-asked');
    const last = asked[asked.length - 1];
    if (!last) return;
    const box = last.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight * 0.5) last.scrollIntoView({block: 'start'});
  };
  setTimeout(show, 150);
  setTimeout(show, 600);
}
