async (password) => {
  // Sign in on the app's own route, which sets the HttpOnly session cookie: the password goes there, never through
  // Gradio's queue. What the route says is handed on to the Python side, which shows the panel the cookie allows.
  // (Gradio runs this file as the expression it is: keep it one arrow function, with comments only inside it.)
  try {
    const response = await fetch('admin/sign-in', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({password: password || ''}),
    });
    return (await response.json()).message;
  } catch (error) {
    return 'Signing in did not work: the app could not be reached. Please try again.';
  }
}
