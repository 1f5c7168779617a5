package testutil

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Viewport is a screen size the console must work at.
type Viewport struct {
	Name          string
	Width, Height int64
}

// Laptop and Phone are the sizes every console page is checked at.
var (
	Laptop    = Viewport{"laptop", 1280, 800}
	Phone     = Viewport{"phone", 390, 844}
	Viewports = []Viewport{Laptop, Phone}
)

// layoutProblems runs in the page and lists what a person would see as broken: a page wider
// than the screen, a box that scrolls sideways, text squeezed to about one character per line,
// a control narrower than its own label, an ASCII colon in Chinese text, a raw message key,
// and an error page where a page was expected.
const layoutProblems = `(() => {
  const out = [];
  const vw = window.innerWidth;
  const doc = document.documentElement;
  if (doc.scrollWidth > vw + 1) out.push("the page scrolls sideways: " + doc.scrollWidth + "px wide in a " + vw + "px window");
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    else if (el.classList.length) s += "." + Array.from(el.classList).join(".");
    const text = (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? s + " \"" + text + "\"" : s;
  };
  // Visually hidden content (clipped for screen readers only) is not seen, so not measured.
  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || cs.display === "none") return false;
    for (let p = el; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).clipPath !== "none") return false;
    }
    return true;
  };
  if (document.querySelector("section.error-page")) out.push("an error page instead: " + document.title);
  // A message key shown as it is: the translation is missing.
  const rawKey = /^(account_email|alerts|campaigns|channels|click|common|customers|dashboard|error|health|journeys|layout|liff|link|login|messaging|modules|nav|password|role|sandbox|settings|stats|tags|team_settings|triggers|users|webhooks)\.[a-z0-9_.]+$/;
  for (const el of document.querySelectorAll("body *")) {
    for (const n of el.childNodes) {
      if (n.nodeType === Node.TEXT_NODE && rawKey.test(n.textContent.trim())) out.push("a raw message key: " + n.textContent.trim());
    }
    for (const a of ["placeholder", "aria-label", "title", "alt"]) {
      const v = el.getAttribute(a);
      if (v && rawKey.test(v.trim())) out.push("a raw message key in " + a + ": " + v.trim());
    }
  }
  const reported = new Set();
  const underReported = (el) => { for (let p = el.parentElement; p; p = p.parentElement) if (reported.has(p)) return true; return false; };
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    const tag = el.tagName;
    // A box of its own that scrolls sideways (tables in a scroller count; code and mail do not).
    if ((cs.overflowX === "auto" || cs.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1 &&
        !["PRE", "TEXTAREA", "IFRAME", "CODE", "SELECT"].includes(tag)) {
      out.push("scrolls sideways inside: " + describe(el));
    }
    // Anything reaching beyond the right edge of the window.
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1 && !el.closest("pre, iframe, [data-layout-ignore]")) {
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o !== "visible") { clipped = true; break; }
      }
      if (!clipped && !underReported(el)) {
        reported.add(el);
        out.push("reaches past the right edge (" + Math.round(r.right) + "px > " + vw + "px): " + describe(el));
      }
    }
    // Controls narrower than their label.
    const control = tag === "BUTTON" || tag === "SELECT" || tag === "SUMMARY" || (tag === "A" && el.getAttribute("role") === "button") ||
      (tag === "INPUT" && ["submit", "button"].includes(el.type));
    if (control && cs.display !== "inline" && el.scrollWidth > el.clientWidth + 1) {
      out.push("control narrower than its text: " + describe(el));
    }
    // Text squeezed to about one character per line.
    for (const n of el.childNodes) {
      if (n.nodeType !== Node.TEXT_NODE) continue;
      const text = n.textContent.replace(/\s+/g, "");
      if (Array.from(text).length < 3) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const lines = new Set(Array.from(range.getClientRects()).filter(q => q.width > 0).map(q => Math.round(q.top)));
      if (lines.size >= 3 && lines.size * 2 > Array.from(text).length) {
        out.push("text wraps to one character per line: " + describe(el));
      }
      if (control && lines.size > 1 && Array.from(text).length <= 12) {
        out.push("a short control label breaks over lines: " + describe(el));
      }
      // Chinese text takes the full-width colon: "最後來訊: " reads as a typo.
      if (document.documentElement.lang.startsWith("zh") && /[\u3400-\u9fff\uff09\u300d]\s*:(\s|$)/.test(n.textContent) &&
          !el.closest("[data-user-content], pre, code, textarea")) {
        out.push("an ASCII colon in Chinese text: " + describe(el));
      }
      // A word of a link, label, heading or table header split inside it ("Participatio|n").
      if (lines.size > 1 && (tag === "A" || control || ["TH", "LABEL", "SPAN", "DT", "STRONG", "H1", "H2", "H3", "SMALL"].includes(tag)) &&
          !el.closest("code, pre")) {
        for (const m of n.textContent.matchAll(/[A-Za-z]{2,}/g)) {
          const wr = document.createRange();
          wr.setStart(n, m.index);
          wr.setEnd(n, m.index + m[0].length);
          const tops = new Set(Array.from(wr.getClientRects()).filter(q => q.width > 0).map(q => Math.round(q.top)));
          if (tops.size > 1) { out.push("a word breaks in the middle (" + m[0] + "): " + describe(el)); break; }
        }
      }
    }
  }
  return Array.from(new Set(out)).slice(0, 20);
})()`

// CheckLayout loads url at laptop and phone size, saves a full-page screenshot of each as
// test-artifacts/{name}-{size}.png, and fails the test for every layout problem it finds.
// settle waits for what the page loads after it opens (htmx fragments), when given.
func CheckLayout(t testing.TB, ctx context.Context, url, name string, settle ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for _, v := range Viewports {
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.EmulateViewport(v.Width, v.Height),
			chromedp.Navigate(url),
			chromedp.WaitReady("body"),
		}
		steps = append(steps, settle...)
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s at %s size: %v", url, v.Name, err)
		}
		// Let fonts and htmx's first swaps finish before measuring.
		_ = chromedp.Do(ctx, chromedp.Sleep(150*time.Millisecond))
		Screenshot(t, ctx, name+"-"+v.Name)
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutProblems))
		if err != nil {
			t.Fatalf("measure %s at %s size: %v", url, v.Name, err)
		}
		if len(problems) > 0 {
			t.Errorf("%s at %s size (%dx%d):\n  %s", name, v.Name, v.Width, v.Height, strings.Join(problems, "\n  "))
		}
	}
}

// String names the viewport and its size, for messages.
func (v Viewport) String() string { return fmt.Sprintf("%s %dx%d", v.Name, v.Width, v.Height) }
