// Small DOM helpers the views share.

const SVG_NS = "http://www.w3.org/2000/svg";

// An HTML element with a class and text, both optional.
export function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// An SVG element with attributes.
export function svgEl(tag, attributes) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, value);
  return element;
}

export function button(text, title, onClick) {
  const element = el("button", "tv-button", text);
  element.type = "button";
  element.title = title;
  element.addEventListener("click", onClick);
  return element;
}

// The task an element stands for (a graph node's or a timeline bar's data-task), or null.
export function taskAt(target) {
  const node = target.closest && target.closest("[data-task]");
  return node ? Number(node.dataset.task) : null;
}
