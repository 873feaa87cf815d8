"use strict";
/* Live threads: on a thread's last page, ask every few seconds whether new replies came
   (/t/<id>/live?after=<n>: 204 when none, {"posts", "new"} when some), and offer them in a bar
   (templates/conversation/_live_bar.html) that adds them in place when clicked
   (/t/<id>/after/<n>: the posts' HTML as the thread page prints them).

   Polls only while the page is visible, waits longer after each failure, and never touches the
   reply form: the posts go at the end of .posts, focus moves only when the bar's own button
   had it. */
(() => {
  const POLL_MS = 5000;
  const MAX_BACKOFF_MS = 120000;

  const bar = document.querySelector(".live-bar[data-live-poll]");
  const list = document.querySelector(".posts");
  if (!bar || !list || !window.fetch) {
    return;
  }
  const button = bar.querySelector(".live-bar-button");
  const pollUrl = bar.dataset.livePoll;
  const postsUrl = bar.dataset.livePosts.replace(/\/0$/, "/");
  const reveal = bar.dataset.reveal ? "?reveal=1" : "";
  // A hidden thread answers only its moderators: that poll carries the login. Every other
  // thread's count is the same for everyone, and a poll without cookies costs the server less.
  const credentials = bar.dataset.private ? "same-origin" : "omit";
  let after = Number.parseInt(bar.dataset.after, 10);
  let failures = 0;
  let timer = null;
  let busy = false;

  const schedule = (ms) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, ms);
  };

  const backOff = () => {
    failures += 1;
    schedule(Math.min(POLL_MS * 2 ** failures, MAX_BACKOFF_MS));
  };

  const replies = (n) => `${n.toLocaleString()} new ${n === 1 ? "reply" : "replies"}`;

  const announce = (news) => {
    button.textContent = replies(news.new);
    bar.hidden = false;
  };

  async function poll() {
    if (document.visibilityState !== "visible" || busy) {
      return; // visibilitychange starts it again
    }
    try {
      const answer = await fetch(`${pollUrl}?after=${after}`, {
        credentials,
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (answer.status === 200) {
        announce(await answer.json());
      } else if (answer.status !== 204) {
        throw new Error(`live poll: ${answer.status}`);
      }
      failures = 0;
      schedule(POLL_MS);
    } catch (error) {
      backOff();
    }
  }

  // "N replies" in the thread's header, when it is the plain count the page printed.
  const updateReplyCount = (posts) => {
    for (const span of document.querySelectorAll(".thread-meta span")) {
      if (/^[\d,.\s]+ repl(y|ies)$/.test(span.textContent.trim())) {
        const count = Math.max(posts - 1, 0);
        span.textContent = `${count.toLocaleString()} ${count === 1 ? "reply" : "replies"}`;
        return;
      }
    }
  };

  async function showNewPosts() {
    if (busy) {
      return;
    }
    busy = true;
    const hadFocus = document.activeElement === button;
    try {
      const answer = await fetch(`${postsUrl}${after}${reveal}`, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "text/html" },
      });
      if (!answer.ok) {
        throw new Error(`live posts: ${answer.status}`);
      }
      // Parsed as an inert document: nothing in it runs, and only its nodes are moved in.
      const parsed = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fragment = parsed.querySelector(".live-posts");
      if (!fragment) {
        throw new Error("live posts: no posts in the answer");
      }
      const last = Number.parseInt(fragment.dataset.last, 10);
      const added = [...fragment.children].map((node) => document.adoptNode(node));
      added.forEach((node) => list.append(node));
      if (Number.isFinite(last) && last > after) {
        after = last;
        updateReplyCount(last);
      }
      bar.hidden = true;
      // For scripts that set up posts once at load (app.js: scrollable code blocks get a
      // tabindex) to do the same for these.
      document.dispatchEvent(new CustomEvent("showboard:posts-added", { detail: { added } }));
      const first = added.find((node) => node.matches("article, .live-too-many"));
      if (first && (hadFocus || document.activeElement === document.body)) {
        // The button they pressed is gone: focus goes on to what it showed, never away from
        // a text box they are typing in.
        first.tabIndex = -1;
        first.focus({ preventScroll: false });
      }
    } catch (error) {
      button.textContent = "Couldn't load the new replies. Try again";
    } finally {
      busy = false;
    }
    schedule(POLL_MS);
  }

  button.addEventListener("click", showNewPosts);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      schedule(failures ? POLL_MS : 1000); // back on the page: catch up soon
    } else {
      window.clearTimeout(timer);
    }
  });
  schedule(POLL_MS);
})();
