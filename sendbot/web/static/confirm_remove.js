(source) => {
  // Removing a document cannot be undone: ask first, in the browser's own dialog. Cancelling sends no document,
  // so nothing is removed. (Gradio runs this file as the expression it is: keep it one arrow function.)
  if (!source) return source;
  return window.confirm(`Remove "${source}" from the documents? Its passages will no longer be searched.`) ? source : '';
}
