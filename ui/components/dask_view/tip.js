// The view's tooltip: lines of text, placed beside the pointer within the view.
import { el } from "./dom.js";
import { tipBeside, tipLeftOf } from "./logic/geometry.js";

export class Tip {
  // ``view``: the element the tooltip is placed in (positioned), whose bounds it keeps to.
  constructor(view) {
    this.view = view;
    this.element = el("div", "tv-tip");
    this.element.hidden = true;
  }

  // ``lines`` of [text, class name] for a task: below and right of the pointer.
  showTask(task, lines, event) {
    this.fill(lines);
    this.element.dataset.task = String(task);
    this.element.hidden = false;
    this.place(tipBeside(event.clientX, event.clientY, this.view.getBoundingClientRect(), this.element.offsetWidth));
  }

  // ``lines`` for a tile: left of the pointer, the picture being on the view's right, and
  // above it, clear of the picture's caption.
  showTile(lines, event) {
    this.fill(lines);
    this.element.hidden = false;
    const { offsetWidth, offsetHeight } = this.element;
    this.place(tipLeftOf(event.clientX, event.clientY, this.view.getBoundingClientRect(), offsetWidth, offsetHeight));
  }

  hide() {
    this.element.hidden = true;
    delete this.element.dataset.task;
  }

  fill(lines) {
    this.element.replaceChildren(...lines.map(([text, name]) => el("div", name, text)));
  }

  place({ left, top }) {
    this.element.style.left = `${left}px`;
    this.element.style.top = `${top}px`;
  }
}
