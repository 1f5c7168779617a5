// The LIFF endpoint page. Same code with the official @line/liff and the sandbox stand-in:
// init, log in when needed, check friendship, then post the raw ID token with the link token.
(function () {
  "use strict";
  var root = document.getElementById("liff");
  if (!root || !window.liff) { return; }
  var liff = window.liff;

  function show(state, message) {
    root.querySelectorAll("section[data-state]").forEach(function (s) {
      s.hidden = s.getAttribute("data-state") !== state;
    });
    if (message) {
      var m = root.querySelector('section[data-state="' + state + '"] [data-message]');
      if (m) { m.textContent = message; }
    }
    document.body.setAttribute("data-liff-state", state);
  }

  function closeWindow() {
    try { liff.closeWindow(); } catch (e) { /* not available outside LINE */ }
  }
  root.querySelectorAll("[data-close]").forEach(function (b) { b.addEventListener("click", closeWindow); });

  function post(body) {
    return fetch(root.getAttribute("data-api"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { j.httpStatus = r.status; return j; }); });
  }

  liff.init({ liffId: root.getAttribute("data-liff-id") }).then(function () {
    // Our own parameter is read only now: LIFF's secondary redirect has put it in place.
    var token = new URLSearchParams(window.location.search).get("t") || "";
    if (!liff.isInClient() && !liff.isLoggedIn()) {
      liff.login({ redirectUri: window.location.href });
      return;
    }
    var lang = "";
    try { lang = liff.getAppLanguage() || ""; } catch (e) { lang = ""; }
    // Speak the customer's LINE language: reload once in it when the page came in another.
    var want = /^zh/i.test(lang) ? "zh-TW" : (/^en/i.test(lang) ? "en" : "");
    var params = new URLSearchParams(window.location.search);
    if (want && want !== document.documentElement.lang && !params.has("lang")) {
      params.set("lang", want);
      window.location.replace(window.location.pathname + "?" + params.toString());
      return;
    }
    return liff.getFriendship().then(function (f) {
      var body = { token: token, idToken: liff.getIDToken() || "", lang: lang, friend: !!(f && f.friendFlag) };
      return post(body).then(function (res) {
        if (res.status === "friend_required") {
          root.querySelectorAll("[data-add-friend]").forEach(function (a) { a.href = res.addFriendUrl || "#"; });
          if (res.blocked) {
            // The account's page in LINE is where a blocked account is unblocked.
            show("unblock_required");
            return;
          }
          var a = root.querySelector('section[data-state="friend_required"] [data-add-friend]');
          if (typeof liff.requestFriendship === "function") {
            // LINE's add-friend sub-window; linking still waits for the next tap on the card. It
            // resolves whether or not the user added the account, so friendship is asked again;
            // where the window is not available the account's page opens instead.
            a.addEventListener("click", function (ev) {
              ev.preventDefault();
              liff.requestFriendship().then(function () {
                return liff.getFriendship().then(function (f) {
                  if (f && f.friendFlag) { show("friend_added"); }
                });
              }).catch(function () { window.location.href = a.href; });
            });
          }
          show("friend_required");
        } else if (res.status === "linked") {
          show("linked", res.message);
          setTimeout(closeWindow, 4000);
        } else if (res.status === "failed") {
          show("failed", res.message);
        } else {
          show("error", res.message || "");
        }
      });
    });
  }).catch(function (err) {
    show("error", (err && err.message) || String(err));
  });
})();
