// The sandbox's stand-in for the @line/liff SDK: the subset the LIFF page uses, with the same
// names and promise shapes. The user is the one the sandbox LINE app opened the page as; the
// ID token is real in the sandbox's sense (its LINE Login verify endpoint checks it like LINE).
(function () {
  "use strict";
  var session = null;
  var ready = {};
  ready.promise = new Promise(function (res, rej) { ready.resolve = res; ready.reject = rej; });
  function need() {
    if (!session) { throw new Error("liff.init() has not completed"); }
    return session;
  }
  window.liff = {
    ready: ready.promise,
    init: function (cfg) {
      if (!cfg || !cfg.liffId) { return Promise.reject(new Error("liffId is necessary for liff.init()")); }
      return fetch("/sandbox/liff/" + encodeURIComponent(cfg.liffId) + "/session", { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { throw new Error("open this page from the sandbox LINE app (" + r.status + ")"); }
          return r.json();
        })
        .then(function (s) { session = s; ready.resolve(); });
    },
    isInClient: function () { return true; },
    isLoggedIn: function () { return !!session; },
    login: function () { /* the LIFF browser logs in during init */ },
    getOS: function () { return /android/i.test(navigator.userAgent) ? "android" : (/iphone|ipad/i.test(navigator.userAgent) ? "ios" : "web"); },
    getAppLanguage: function () { return session ? session.lang : (navigator.language || "zh-TW"); },
    getLanguage: function () { return this.getAppLanguage(); },
    getVersion: function () { return "2.31.0-sandbox"; },
    getIDToken: function () { return need().idToken; },
    getFriendship: function () { return Promise.resolve({ friendFlag: need().friendFlag }); },
    // LINE's add-friend (or unblock) sub-window: the sandbox's LINE user follows the account,
    // and LINE sends the follow webhook.
    requestFriendship: function () {
      var s = need();
      return fetch("/sandbox/liff/" + encodeURIComponent(s.liffId) + "/follow", {
        method: "POST", credentials: "same-origin", redirect: "manual", headers: { "X-CSRF-Token": s.csrf }
      }).then(function (r) {
        if (!r.ok) { throw new Error("the sandbox LINE app could not add the friend (" + r.status + ")"); }
        s.friendFlag = true;
      });
    },
    // LINE closes the LIFF window and the user is back in the chat; the sandbox's LINE app
    // shows the way back to it in the simulator.
    closeWindow: function () {
      document.body.setAttribute("data-liff-closed", "true");
      window.location.assign("/sandbox/liff/" + encodeURIComponent(need().liffId) + "/closed");
    }
  };
})();
