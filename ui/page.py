"""Scripts the page must run before Gradio's own: written into `/` as it is served (Gradio adds `head=` later)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ui.i18n import locale_script

# Reloading or closing the page ends the visitor's session, and its documents and chat go with it: the browser asks
# first while there is something to lose (a walkthrough lost 7 uploaded files to a reload without a word).
# It runs before Gradio's own listener, which closes the session's connection at once: that one must not run while
# the visitor may still answer "stay" (when they leave, the page's connections close with it anyway).
LEAVE_WARNING = """<script>
window.addEventListener("beforeunload", (event) => {
  if (document.querySelector("#documents .virtual-row, #chatbot .message")) {
    event.stopImmediatePropagation();
    event.preventDefault();
    event.returnValue = "";
  }
});
</script>"""


async def first_scripts(request: Request, call_next) -> Response:
    """HTTP middleware: the page at `/` with the leave warning and, for `?lang=`, the language script first in its
    head (Gradio picks the page's language from navigator.language when its scripts start)."""
    response = await call_next(request)
    if request.url.path != "/" or "text/html" not in response.headers.get("content-type", ""):
        return response
    body = b"".join([chunk async for chunk in response.body_iterator])
    body = body.replace(b"<head>", b"<head>" + (locale_script(request) + LEAVE_WARNING).encode(), 1)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body, status_code=response.status_code, headers=headers)
