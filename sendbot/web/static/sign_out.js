async () => {
  // Sign out on the app's own route, which ends the session and clears its cookie; the Python side then hides the
  // tools. (Gradio runs this file as the expression it is: keep it one arrow function, with comments only inside.)
  try {
    await fetch('admin/sign-out', {method: 'POST'});
  } catch (error) {
    // Nothing to undo: the page shows the sign-in box either way, and the session ends when it expires.
  }
}
