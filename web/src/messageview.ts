// A server message on the page: its sentence as text and, apart, its technical detail (a third-party
// parser's message no code says) verbatim in a <code> — never inside the translated sentence.

import type { ServerMessage } from "./servertext";

/** The nodes of `message`: the sentence, then the detail in `<code class="detail">` when there is one. */
export function messageNodes(message: ServerMessage): Node[] {
  const nodes: Node[] = [document.createTextNode(message.text)];
  if (message.detail) {
    const code = document.createElement("code");
    code.className = "detail";
    code.textContent = message.detail;
    nodes.push(document.createTextNode(" "), code);
  }
  return nodes;
}
