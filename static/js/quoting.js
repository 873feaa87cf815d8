// Quotes and @mentions in the reply box (forum/views/quoting.py). Progressive enhancement
// only: without this file the Quote link opens /p/<id>/quote, the reply form pre-filled, and
// @names are typed in full.
"use strict";

const SUGGEST_URL = "/members/suggest";
const MENTION_DELAY = 200;
// What forum/conversation/quoting.py writes for a spoiler the reader hasn't reached.
const NOT_WATCHED = "(spoiler not copied: you haven't watched it yet)";

function replyBox() {
  return document.querySelector("#reply textarea[name=body]");
}

// `text` into the box at the cursor (replacing any selection there), on a line of its own,
// keeping what was typed around it; the cursor ends up after it. execCommand keeps the
// browser's undo history (Ctrl+Z takes the quote out again) and fires the input event the
// live preview listens to; setRangeText is the fallback where it is gone.
function insertAtCursor(textarea, text) {
  const start = textarea.selectionStart;
  const end = textarea.selectionEnd;
  const before = textarea.value.slice(0, start);
  let lead = "";
  if (before !== "" && !before.endsWith("\n\n")) lead = before.endsWith("\n") ? "\n" : "\n\n";
  const inserted = lead + text;
  textarea.focus();
  textarea.setSelectionRange(start, end);
  if (!document.execCommand("insertText", false, inserted)) {
    textarea.setRangeText(inserted, start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }
  const caret = start + inserted.length;
  textarea.setSelectionRange(caret, caret);
  textarea.focus();
}

// ------------------------------------------------------------------------------ Quote button

// The post's own Quote link asks the server for the Markdown (spoilers the reader hasn't
// reached are already taken out there) and puts it in the reply box on this page.
function setUpQuoteLinks() {
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a.quote-link[data-quote]");
    const box = replyBox();
    if (!link || !box) return; // no reply box here: the link's own page has one
    event.preventDefault();
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("format", "md");
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      insertAtCursor(box, await response.text());
      box.scrollIntoView({ block: "center" });
    } catch (error) {
      window.location.href = link.href; // the page says why (or has the form)
    }
  });
}

// ------------------------------------------------------------------------------ selection

// The selection as Markdown, from the HTML the reader already has: unreached episode spoilers
// are not in it (the server withheld them), so they can't be copied; spoilers that are in it
// stay spoilers, so the reply hides them from its readers too; quotes inside it are left out,
// as the server's quotes leave them out.
function spoilerSyntax(label, inner) {
  const code = label.dataset.episode;
  return `>!${code ? `${code}: ` : ""}${inner.trim()}!<`;
}

// A link keeps its address when it is one to follow (on this site, or http(s) elsewhere):
// `[text](href)`; any other (javascript:, data:, mailto:) is its text alone. A mention is the
// @name it says, which the reply links again.
function isFollowable(href) {
  try {
    return ["http:", "https:"].includes(new URL(href, window.location.href).protocol);
  } catch (error) {
    return false;
  }
}

function hexByte(character) {
  return character.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
}

function linkMarkdown(anchor, inner) {
  if (anchor.matches("a.mention")) {
    const name = anchor.textContent.trim().replace(/^@/, "");
    return name ? `@${name}` : inner;
  }
  const href = (anchor.getAttribute("href") || "").trim();
  if (!href || !isFollowable(href)) return inner;
  const text = inner.trim().replace(/\s*\n\s*/g, " ") || href;
  // Brackets in the text and spaces, parentheses or angle brackets in the address would end
  // the link early.
  const label = text.replace(/[[\]\\]/g, (c) => `\\${c}`);
  const target = href.replace(/[\s()<>]/g, (c) => `%${hexByte(c)}`);
  return `[${label}](${target})`;
}

function asMarkdown(node) {
  let out = "";
  node.childNodes.forEach((child) => {
    if (child.nodeType === Node.TEXT_NODE) {
      out += child.nodeValue;
      return;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) return;
    const tag = child.tagName.toLowerCase();
    if (child.matches(".post-removed, .is-hidden-text")) {
      // a hidden or removed post's text is not for a reply (forum/conversation/quoting.py)
    } else if (child.matches(".spoiler-withheld")) {
      out += child.dataset.episode ? `>!${child.dataset.episode}: ${NOT_WATCHED}!<` : "";
    } else if (child.matches("label.spoiler")) {
      const text = child.querySelector(".spoiler-text");
      out += spoilerSyntax(child, text ? asMarkdown(text).replace(/\s*\n\s*/g, " ") : "");
    } else if (tag === "blockquote" || tag === "input") {
      // a quote in the post is not quoted again; a spoiler's checkbox has no text
    } else if (tag === "br") {
      out += "\n";
    } else if (tag === "img") {
      out += child.getAttribute("alt") || "";
    } else if (tag === "pre") {
      out += `\n\n\`\`\`\n${child.textContent.replace(/\n$/, "")}\n\`\`\`\n\n`;
    } else if (tag === "code") {
      out += `\`${child.textContent}\``;
    } else if (tag === "li") {
      out += `\n- ${asMarkdown(child).trim()}\n`;
    } else if (/^(p|h[1-6]|ul|ol|table|tr|div)$/.test(tag)) {
      out += `\n\n${asMarkdown(child)}\n\n`;
    } else if (tag === "a") {
      out += linkMarkdown(child, asMarkdown(child));
    } else if (tag === "em") {
      out += `*${asMarkdown(child)}*`;
    } else if (tag === "strong") {
      out += `**${asMarkdown(child)}**`;
    } else {
      out += asMarkdown(child);
    }
  });
  return out;
}

function quoteOfSelection(range, article) {
  const inside = range.commonAncestorContainer;
  const element = inside.nodeType === Node.ELEMENT_NODE ? inside : inside.parentElement;
  if (!element || element.closest(".spoiler-withheld, .post-removed, .is-hidden-text")) {
    return null;
  }
  let text = asMarkdown(range.cloneContents());
  // A selection inside one link has no <a> in its copy: it is still that link.
  const anchor = element.closest(".post-body a[href]");
  if (anchor) text = linkMarkdown(anchor, anchor.matches("a.mention") ? "" : text);
  // A selection inside one spoiler has no label in its copy: it is still that spoiler.
  const spoiler = element.closest("label.spoiler");
  if (spoiler) text = spoilerSyntax(spoiler, text.replace(/\s*\n\s*/g, " "));
  text = text.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
  if (!text) return null;
  const id = article.id.replace(/^post-/, "");
  const author = article.querySelector(".post-byline a.user-link");
  const name = author ? `@${author.textContent.trim()}` : "A deleted member";
  const lines = [`[${name} said](/p/${id}):`, "", ...text.split("\n")];
  return `${lines.map((line) => (line ? `> ${line}` : ">")).join("\n")}\n\n`;
}

// Selecting text in a post that may be quoted (it has a Quote link) shows a small "Quote"
// button by the selection.
function setUpSelectionQuotes() {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button quote-selection";
  button.textContent = "Quote";
  button.setAttribute("aria-label", "Quote the selected text");
  button.hidden = true;
  document.body.append(button);
  let chosen = null; // { range, article } while the button shows

  const hide = () => {
    button.hidden = true;
    chosen = null;
  };
  const consider = () => {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount || !replyBox()) {
      hide();
      return;
    }
    const range = selection.getRangeAt(0);
    const inside = range.commonAncestorContainer;
    const element = inside.nodeType === Node.ELEMENT_NODE ? inside : inside.parentElement;
    const body = element && element.closest(".post-body");
    const article = body && body.closest("article.post");
    // A hidden post's text (shown to moderators) and a removed post's stub are never quoted,
    // whatever links the page has (the server refuses them too).
    const quotable =
      article &&
      !body.matches(".is-hidden-text") &&
      !article.querySelector(".post-body.is-hidden-text, .post-removed") &&
      article.querySelector("a.quote-link[data-quote]");
    if (!quotable) {
      hide();
      return;
    }
    chosen = { range: range.cloneRange(), article };
    const box = range.getBoundingClientRect();
    button.hidden = false;
    button.style.top = `${window.scrollY + box.bottom + 6}px`;
    button.style.left = `${Math.max(8, window.scrollX + box.left)}px`;
  };
  let timer = null;
  document.addEventListener("selectionchange", () => {
    clearTimeout(timer);
    timer = setTimeout(consider, 150);
  });
  // Keep the selection when the button is pressed with a mouse.
  button.addEventListener("mousedown", (event) => event.preventDefault());
  button.addEventListener("click", () => {
    const box = replyBox();
    if (!chosen || !box) return;
    const quote = quoteOfSelection(chosen.range, chosen.article);
    hide();
    if (!quote) return;
    window.getSelection().removeAllRanges();
    insertAtCursor(box, quote);
    box.scrollIntoView({ block: "center" });
  });
}

// ------------------------------------------------------------------------------ @mentions

// Where the caret is in a textarea, in page pixels: a hidden copy of the box with the same
// font and wrapping, holding the text up to the caret and a marker.
const COPIED_STYLES = [
  "boxSizing", "width", "fontFamily", "fontSize", "fontWeight", "fontStyle", "lineHeight",
  "letterSpacing", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
  "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth",
  "tabSize", "textTransform", "wordSpacing",
];

function caretOffset(textarea) {
  const mirror = document.createElement("div");
  const style = window.getComputedStyle(textarea);
  COPIED_STYLES.forEach((name) => {
    mirror.style[name] = style[name];
  });
  mirror.style.position = "absolute";
  mirror.style.visibility = "hidden";
  mirror.style.whiteSpace = "pre-wrap";
  mirror.style.overflowWrap = "break-word";
  mirror.style.top = "0";
  mirror.style.left = "-9999px";
  mirror.textContent = textarea.value.slice(0, textarea.selectionEnd);
  const marker = document.createElement("span");
  marker.textContent = "\u200b";
  mirror.append(marker);
  document.body.append(mirror);
  const offset = {
    top: marker.offsetTop - textarea.scrollTop,
    left: marker.offsetLeft - textarea.scrollLeft,
    height: marker.offsetHeight,
  };
  mirror.remove();
  return offset;
}

// The @name being typed just before the caret, if any: its start and what is typed so far.
const TYPED_MENTION = /(?:^|[^\p{L}\p{N}_@-])@([\p{L}\p{N}_-]{1,30})$/u;

function typedMention(textarea) {
  if (textarea.selectionStart !== textarea.selectionEnd) return null;
  const before = textarea.value.slice(0, textarea.selectionStart);
  const found = TYPED_MENTION.exec(before);
  if (!found) return null;
  return { start: before.length - found[1].length - 1, prefix: found[1] };
}

// An ARIA 1.2 combobox on the textarea: typing @ and a letter or more asks /members/suggest
// (once typing pauses); the arrows move through the names, Enter or Tab puts the chosen one
// in, Escape closes the list and leaves the text alone.
function setUpMentionAutocomplete(textarea, n) {
  const editor = textarea.closest(".editor") || textarea.parentElement;
  if (!textarea.id) textarea.id = `mention-box-${n}`;
  const list = document.createElement("ul");
  list.id = `${textarea.id}-mentions`;
  list.className = "mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Members");
  list.hidden = true;
  const status = document.createElement("p");
  status.className = "visually-hidden mention-status";
  status.setAttribute("aria-live", "polite");
  editor.classList.add("has-mentions");
  editor.append(list, status);
  textarea.setAttribute("role", "combobox");
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-expanded", "false");
  textarea.setAttribute("aria-controls", list.id);

  let timer = null;
  let inFlight = null;
  let active = -1;
  let typed = null; // the mention the list is for
  const options = () => [...list.querySelectorAll("[role=option]")];

  const close = () => {
    list.hidden = true;
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
    active = -1;
    typed = null;
  };
  const choose = (index) => {
    const all = options();
    all.forEach((option, m) => option.setAttribute("aria-selected", String(m === index)));
    active = index;
    if (all[index]) {
      textarea.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    }
  };
  const place = () => {
    const caret = caretOffset(textarea);
    const top = textarea.offsetTop + Math.min(caret.top + caret.height, textarea.clientHeight);
    list.style.top = `${top + 4}px`;
    list.style.left = `${textarea.offsetLeft + Math.min(caret.left, textarea.clientWidth - 160)}px`;
  };
  const show = (usernames) => {
    list.replaceChildren();
    usernames.forEach((username, m) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${m}`;
      option.className = "mention-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.username = username;
      option.textContent = `@${username}`; // text, never HTML
      list.append(option);
    });
    if (!usernames.length) {
      const kept = typed;
      close();
      typed = kept;
      status.textContent = "";
      return;
    }
    place();
    list.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    choose(0);
    status.textContent = `${usernames.length} member${usernames.length === 1 ? "" : "s"}, ` +
      "use the arrow keys and Enter to choose";
  };
  const pick = (option) => {
    if (!option || !typed) return;
    const mention = `@${option.dataset.username} `;
    const { start } = typed;
    const end = textarea.selectionStart;
    close();
    textarea.focus();
    textarea.setSelectionRange(start, end);
    if (!document.execCommand("insertText", false, mention)) {
      textarea.setRangeText(mention, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
  };
  const ask = async () => {
    const now = typedMention(textarea);
    if (!now) {
      close();
      return;
    }
    typed = now;
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    const url = new URL(SUGGEST_URL, window.location.href);
    url.search = new URLSearchParams({ q: now.prefix }).toString();
    try {
      const response = await fetch(url, { signal: controller.signal, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const still = typedMention(textarea);
      if (document.activeElement === textarea && still && still.prefix === now.prefix) {
        show(data.usernames || []);
      }
    } catch (error) {
      if (error.name !== "AbortError") console.warn("member suggestions failed", error);
    }
  };

  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    if (!typedMention(textarea)) {
      close();
      return;
    }
    timer = setTimeout(ask, MENTION_DELAY);
  });
  textarea.addEventListener("keydown", (event) => {
    if (list.hidden) return; // the keys are the textarea's own
    const all = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      choose((active + step + all.length) % all.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
      event.preventDefault();
      pick(all[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  // mousedown, not click: a click would come after the box's blur has closed the list.
  list.addEventListener("mousedown", (event) => {
    const option = event.target.closest("[role=option]");
    if (!option) return;
    event.preventDefault();
    pick(option);
  });
  textarea.addEventListener("blur", () => close());
  textarea.addEventListener("click", () => {
    if (!list.hidden && !typedMention(textarea)) close();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpQuoteLinks();
  setUpSelectionQuotes();
  document
    .querySelectorAll(".editor textarea[name=body]")
    .forEach((textarea, n) => setUpMentionAutocomplete(textarea, n));
});
